// Preloaded with `node --require`: every TCP server in this process binds 127.0.0.1 only.
// The dev-env services listen on all interfaces by default; loopback is the only address
// the test network may use.
'use strict'

const dns = require('node:dns')
const net = require('node:net')

const LOOPBACK = '127.0.0.1'
const originalListen = net.Server.prototype.listen

dns.setDefaultResultOrder('ipv4first')

net.Server.prototype.listen = function listen(...args) {
  const [first] = args
  if (first !== null && typeof first === 'object' && !('_handle' in first) && !first.fd) {
    if (first.path === undefined) {
      args[0] = { ...first, host: LOOPBACK, ipv6Only: false }
    }
  } else if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    // listen(port[, host][, backlog][, callback]): drop any host given and use loopback.
    const rest = args.slice(1)
    if (typeof rest[0] === 'string' || rest[0] === undefined || rest[0] === null) rest.shift()
    args = [Number(first), LOOPBACK, ...rest]
  } else if (first === undefined || typeof first === 'function') {
    // listen() or listen(callback): a random port, on loopback.
    args = [0, LOOPBACK, ...args.slice(first === undefined ? 1 : 0)]
  }
  return originalListen.apply(this, args)
}
