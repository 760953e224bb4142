const t0 = Date.now()
process.env.TMPDIR = '/work/main/var/bluesky-dev-env/probe'
const { TestNetwork } = await import('/work/main/tests/servers/bluesky/node_modules/@atproto/dev-env/dist/index.js')
console.log('import', Date.now() - t0)
process.env.REDIS_HOST = '127.0.0.1:6379'
const t1 = Date.now()
const n = await TestNetwork.create({ dbPostgresUrl: 'postgresql://postgres@127.0.0.1:5432/chorus_bsky', dbPostgresSchema: 'probe' })
console.log('create', Date.now() - t1)
await n.close()
process.exit(0)
