// Starts a private AT Protocol network (PLC, PDS, AppView, bsync, Ozone) for Chorus' tests.
//
// Prints one JSON line with the service URLs on stdout once every service is up, then
// runs until SIGTERM/SIGINT. All service logs go to stderr. Postgres schemas and the data
// folder are named after this process so that concurrent runs never share state; what runs
// that died without cleaning up left behind is removed at the next start.
import fs from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

import pg from 'pg'

// Everything the services write (SQLite files, blobs, port locks) stays in the repository's
// git-ignored var/ folder unless CHORUS_BSKY_TMPDIR says otherwise.
const TMP_ROOT =
  process.env.CHORUS_BSKY_TMPDIR ||
  path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../var/bluesky-dev-env')

const PG_SERVER_URL = process.env.CHORUS_BSKY_PG_URL || 'postgresql://postgres@127.0.0.1:5432'
const PG_DATABASE = process.env.CHORUS_BSKY_PG_DATABASE || 'chorus_bsky'
const REDIS_HOST = process.env.CHORUS_BSKY_REDIS_HOST || '127.0.0.1:6379'
// Schema names may only hold letters and underscores: spell the pid with letters a-j.
const pidToLetters = (pid) => String(pid).replace(/\d/g, (d) => 'abcdefghij'[d])
const lettersToPid = (letters) => Number(letters.replace(/[a-j]/g, (c) => c.charCodeAt(0) - 97))
const RUN_SCHEMA = `chorus_${pidToLetters(process.pid)}`
const SCHEMA_PATTERN = /^(?:appview|bsync|ozone)_chorus_([a-j]+)$/

const log = (...args) => console.error('[bluesky-dev-env]', ...args)

const withClient = async (database, fn) => {
  const url = new URL(PG_SERVER_URL)
  url.pathname = `/${database}`
  const client = new pg.Client({ connectionString: url.toString() })
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end()
  }
}

const isRunning = (pid) => {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return err.code !== 'ESRCH'
  }
}

const removeStaleDataDirs = async () => {
  for (const entry of await fs.readdir(TMP_ROOT)) {
    const match = /^run-([a-j]+)$/.exec(entry)
    if (match && !isRunning(lettersToPid(match[1]))) {
      await fs.rm(path.join(TMP_ROOT, entry), { recursive: true, force: true })
    }
  }
}

const dropSchemas = async (client, names) => {
  for (const name of names) {
    await client.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`)
  }
}

const prepareDatabase = async () => {
  await withClient('postgres', async (client) => {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [PG_DATABASE])
    if (found.rowCount === 0) {
      try {
        await client.query(`CREATE DATABASE "${PG_DATABASE}"`)
      } catch (err) {
        if (err.code !== '42P04') throw err // created meanwhile by a concurrent run
      }
    }
  })
  await withClient(PG_DATABASE, async (client) => {
    const { rows } = await client.query('SELECT nspname FROM pg_namespace')
    const stale = rows
      .map((row) => row.nspname)
      .filter((name) => {
        const match = SCHEMA_PATTERN.exec(name)
        // Schemas named after our own pid were left by a dead run that had the same pid.
        const owner = match && lettersToPid(match[1])
        return match && (owner === process.pid || !isRunning(owner))
      })
    await dropSchemas(client, stale)
  })
}

const dropOwnSchemas = () =>
  withClient(PG_DATABASE, (client) =>
    dropSchemas(client, ['appview', 'bsync', 'ozone'].map((p) => `${p}_${RUN_SCHEMA}`)),
  )

const main = async () => {
  const started = Date.now()
  await fs.mkdir(TMP_ROOT, { recursive: true })
  const dataDir = path.join(TMP_ROOT, `run-${pidToLetters(process.pid)}`)
  await fs.rm(dataDir, { recursive: true, force: true })
  await fs.mkdir(dataDir, { recursive: true })
  // The dev-env modules read os.tmpdir() when loaded: set it before importing them.
  process.env.TMPDIR = dataDir
  process.env.REDIS_HOST = REDIS_HOST
  const [{ ADMIN_PASSWORD, JWT_SECRET, TestNetwork }] = await Promise.all([
    import('@atproto/dev-env'),
    prepareDatabase(),
  ])
  await removeStaleDataDirs()

  const dbUrl = new URL(PG_SERVER_URL)
  dbUrl.pathname = `/${PG_DATABASE}`
  const network = await TestNetwork.create({
    dbPostgresUrl: dbUrl.toString(),
    dbPostgresSchema: RUN_SCHEMA,
    pds: { hostname: 'localhost', enableDidDocWithSession: true },
  })

  let closing = false
  const shutdown = async (signal) => {
    if (closing) return
    closing = true
    log(`${signal}: shutting down`)
    const hardStop = setTimeout(() => process.exit(1), 15_000)
    hardStop.unref()
    try {
      await network.close()
    } catch (err) {
      log('close failed:', err)
    }
    try {
      await dropOwnSchemas()
      await fs.rm(dataDir, { recursive: true, force: true })
    } catch (err) {
      log('cleanup failed:', err)
    }
    process.exit(0)
  }
  process.on('SIGTERM', () => void shutdown('SIGTERM'))
  process.on('SIGINT', () => void shutdown('SIGINT'))

  const ready = {
    ready: true,
    pds_url: network.pds.url,
    appview_url: network.bsky.url,
    appview_did: network.bsky.serverDid,
    plc_url: network.plc.url,
    ozone_url: network.ozone.url,
    handle_domain: '.test',
    admin_password: ADMIN_PASSWORD,
    // The PDS signs sessions with this dev-only HS256 secret: tests forge expired tokens.
    jwt_secret: JWT_SECRET,
    pid: process.pid,
    startup_seconds: (Date.now() - started) / 1000,
  }
  process.stdout.write(`${JSON.stringify(ready)}\n`)
}

main().catch((err) => {
  log('failed to start:', err)
  process.exit(1)
})
