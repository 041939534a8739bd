// Package sqlstore keeps the library's storage interfaces in a SQL database
// through database/sql: [KeyStore] is a [pii.KeyStore], [HoldStore] a
// [retention.HoldStore], [ConsentStore] a [consent.Store], and
// [ErasureStore] the three stores of package erasure
// ([erasure.RequestStore], [erasure.ReceiptStore],
// [erasure.SuppressionStore]). One package speaks three dialects, chosen by the
// host: [SQLite], [PostgreSQL] (and the PostgreSQL-compatible distributed
// databases) and [MySQL] (MySQL and MariaDB). It imports no driver: the host
// opens the *sql.DB with the driver it likes and keeps owning it.
//
// Each store creates and migrates its own tables when it is opened, under a
// table prefix ([Options.TablePrefix], default "personaldata_"), so they sit
// beside the host's tables or in a database of their own.
//
// # Wiring each dialect
//
// SQLite, with modernc.org/sqlite (no cgo). Name a busy timeout in the DSN,
// so that readers wait for a writer instead of failing; WAL lets readers
// run beside the writer:
//
//	import _ "modernc.org/sqlite"
//
//	db, err := sql.Open("sqlite", "file:/var/lib/app/keys.db?_pragma=busy_timeout(5000)&_pragma=journal_mode(wal)")
//	keys, err := sqlstore.OpenKeyStore(ctx, db, sqlstore.SQLite, nil)
//
// An in-memory SQLite database lives and dies with one connection: call
// db.SetMaxOpenConns(1) on it (the store never needs two connections at
// once). The store turns on PRAGMA secure_delete itself, on each connection
// it writes with, and begins its write transactions IMMEDIATE.
//
// PostgreSQL, with github.com/jackc/pgx/v5/stdlib (lib/pq works too):
//
//	import _ "github.com/jackc/pgx/v5/stdlib"
//
//	db, err := sql.Open("pgx", "postgres://app@db.internal:5432/keys?sslmode=verify-full")
//	keys, err := sqlstore.OpenKeyStore(ctx, db, sqlstore.PostgreSQL, nil)
//
// To keep the tables in a schema of their own, name it in the connection
// string (search_path=personaldata); the prefix still applies.
//
// MySQL 8 or MariaDB 10.5 and later, with github.com/go-sql-driver/mysql, on
// InnoDB:
//
//	import _ "github.com/go-sql-driver/mysql"
//
//	db, err := sql.Open("mysql", "app:secret@tcp(db.internal:3306)/keys?interpolateParams=true")
//	keys, err := sqlstore.OpenKeyStore(ctx, db, sqlstore.MySQL, nil)
//
// interpolateParams=true (safe with the utf8mb4 default) sends each query
// with its arguments in one round trip; without it the driver prepares,
// executes and closes a statement, three round trips per query.
//
// Every text column is a binary string on MySQL (VARBINARY, BLOB), so
// subject IDs compare byte for byte whatever the server's collation: "Ann",
// "ann" and "ann " are three subjects, as they are on the other dialects.
//
// The hold store is opened the same way, with [OpenHoldStore]; it may share
// the key store's database or live in the host's.
//
// # The consent store
//
// [ConsentStore] is a [consent.Store]: the hash-chained events of a
// consent ledger, and its purposes and notice versions, durable across
// restarts and shared by every process that opens it. Open it like the
// others and hand it to consent.New:
//
//	events, err := sqlstore.OpenConsentStore(ctx, db, sqlstore.PostgreSQL, nil)
//	ledger, err := consent.New(ctx, events, &consent.Options{Sealer: protector})
//
// Its tables (component "consent"):
//
//	<prefix>consent_heads        subject PRIMARY KEY, last_seq, last_hash
//	                             one row per subject with events: the length
//	                             of its chain and the hash of its last event
//	<prefix>consent_events       (subject, seq) PRIMARY KEY, id, purpose,
//	                             data, hash; index (purpose, subject)
//	                             one row per event, byte for byte as the
//	                             ledger encoded and hashed it
//	<prefix>consent_definitions  (kind, id) PRIMARY KEY, seq, data
//	                             one row per purpose or notice version, and
//	                             one lock row (kind and id empty) whose seq
//	                             counts them
//
// Append is compare-and-swap on the head row: it moves last_seq from the
// length the ledger saw to the new length (UPDATE ... WHERE last_seq = ?,
// or an insert-if-absent for a new subject) and inserts the events,
// atomically; if another writer moved the head first it writes nothing
// and returns consent.ErrConflict, and the ledger reloads and tries again.
// On PostgreSQL that is one statement (a data-modifying WITH), so the head
// row is locked for one round trip; elsewhere it is one transaction, and
// on MySQL its statements are prepared once per connection. A repeat of an
// append that committed (the same bytes at the same places, as after a
// connection lost at COMMIT) returns nil. A head row that disagrees with
// the events (rows deleted or altered behind the store's back) fails the
// next append with [ErrCorrupt]: a deleted tail, which a ledger started
// without a checkpoint cannot see, stops writes for that subject at once.
// The store hands every row to the ledger as stored; the ledger checks
// each against its hash chain and reports an altered, truncated or
// renumbered event as a consent.ChainError of that subject alone.
//
// Subjects streams in pages of 1,000 subjects, each one indexed query that
// starts after the last subject of the page before (keyset paging), from
// the head rows or, for one purpose, the (purpose, subject) index: memory
// stays flat and no connection is held while the caller works. Definitions
// come back in the order first stored: Define takes the lock row, counts
// up its seq and stores the new definition with that number, in one
// transaction, so the order needs no sequence or auto-increment, and no
// clock that processes disagree on. Definitions are rare (purposes and
// notice versions), so one lock row costs nothing that matters.
//
// The consent tables grow by one events row per event (about 300 bytes
// with its index entries for an event without personal data; sealed
// contact details or evidence add their own length), one heads row per
// subject and one definitions row per purpose and notice version (a notice
// with its text, up to 1 MiB). Nothing is ever deleted or updated but the
// head row: the chain is append-only, and erasure leaves it verifiable by
// shredding the subject's key, which makes the sealed personal data in
// its events unreadable. A ledger starts by reading each subject's chain,
// one query per subject (see BenchmarkConsentLedgerStart).
//
// On distributed SQL the keys of events and heads begin with the subject,
// so one subject's rows sort together and appends of different subjects
// spread over ranges; nothing depends on a sequence. The definitions lock
// row is one hot key, taken only by Define. A serialization failure is
// retried as in the other stores, and a retried Append checks the head
// again, so a writer that lost returns consent.ErrConflict rather than
// writing twice. The single-statement append runs at the server's default
// isolation unless [Options.Isolation] asks for another, in which case it
// is a transaction of its own; it is correct at every level.
//
// # Schema and indexes
//
// Times are BIGINT nanoseconds since 1970 UTC (NULL for none): one type
// that every dialect compares and sorts alike, with no time zone to lose.
// Primary keys are natural keys, never sequences.
//
//	<prefix>migrations  (component, version) PRIMARY KEY, name, applied_at
//	                    one row per applied migration of each store
//	<prefix>subjects    subject PRIMARY KEY, shredded_at
//	                    one row per subject that ever had a key; the row a
//	                    write on the subject's keys locks first, and the
//	                    subject tombstone (shredded_at set)
//	<prefix>keys        (subject, scope) PRIMARY KEY, state, kek_id, wrapped,
//	                    checksum, created_at, shredded_at
//	                    state 1: an active key, wrapped by the KEK kek_id;
//	                    state 2: a tombstone, with kek_id, wrapped and
//	                    checksum NULL
//	<prefix>holds       id (ULID text) PRIMARY KEY, subject, record_key,
//	                    reason, citation, placed_by, placed_at, released_at,
//	                    released_by; indexes (subject, released_at) and
//	                    (record_key, released_at)
//
// The checksum is 16 bytes of SHA-256 over the row's subject, scope, KEK ID
// and wrapped key: a truncated or altered key, or one copied into another
// subject's row, is reported as [ErrCorrupt] instead of being handed to the
// KEK.
//
// # How the tables grow
//
// The key tables grow by one subjects row per subject and one keys row per
// (subject, scope) that ever had a key or was shredded: some 200 bytes per
// key with a 60-byte wrapped key (pii.LocalKeyWrapper) and its index entry,
// so ten million subjects with two scopes take about 4 GB. Rows are never
// deleted: a tombstone is what keeps a shredded scope from getting a new
// key, and it holds no key material. The holds table grows by one row per
// hold ever placed; released holds stay as the record of what was held and
// when.
//
// GetKeys reads up to 1,000 refs per query, with the tombstones of their
// subjects in the same query: the Protector's batch of a page of records is
// one round trip. On PostgreSQL the refs go as two text[] parameters and on
// SQLite as one JSON parameter (an object of "subject": "scope" members,
// joined to the key rows), so every batch has one statement shape and
// plans in no time. On MySQL they are written into the query as
// hexadecimal literals, one subject list per scope: a query without
// parameters is one round trip whether or not the DSN sets
// interpolateParams (about 1 MB for 1,000 refs at the longest subjects,
// below every default max_allowed_packet). Rows are scanned as raw bytes and each
// wrapped key is copied once.
//
// BenchmarkGetKeys times one GetKeys of 1,000 refs against 1,000 GetKeys of
// one ref; the budget is a ratio over 20x. On PostgreSQL and MariaDB on the
// same machine the batch is 25 to 48 times faster (MariaDB alike with and
// without interpolateParams; about 20 when other work loads the machine):
// a single GetKeys is mostly a round trip.
// SQLite has no round trip to save and reaches 8 to 12 times: a single
// GetKeys there costs 35 to 50 µs, about half of it preparing the
// statement (database/sql prepares each query it is given) and a fifth
// running it, while the batch spends about 4 µs per ref on the engine's
// primary-key look-ups and on reading the row. The benchmark's
// floor-speedup compares the batch with 1,000 statements of SELECT 1,
// some 3 µs each: the batch costs about as much per ref as the cheapest
// statement there is (floor-speedup 0.6 to 0.8), so on SQLite the ratio
// is set by what one call costs, not by the batch.
//
// # Key placement
//
// Crypto-shredding erases every copy of a subject's data, backups included,
// only if the key does not come back. Keep the key store in a database of
// its own, apart from the data it protects: another SQLite file, another
// PostgreSQL database or server, another MySQL schema with its own backup
// schedule. Then restoring a backup of the data brings back ciphertext whose
// keys are still shredded, and it stays erased. (The erasure package
// re-applies, after a restore, every erasure recorded since the backup was
// taken; that covers the data stored in the clear.)
//
// The key database needs backups too, or a lost disk loses every protected
// field. A backup of it holds the keys of subjects shredded since it was
// taken, so:
//
//  1. Keep key backups short-lived: retain them no longer than the time
//     within which you promise erasure (say 30 days), and never restore one
//     into service without re-applying the shreds recorded since (the
//     tombstones of the live key database, or the erasure log).
//  2. The keys in a backup are wrapped by the KEK. Rotate the KEK
//     ([pii.Protector.Rewrap]) on a schedule and destroy the old KEK once no
//     backup that needs it is kept: every copy of a wrapped key made under
//     it, in backups, WAL archives, replicas or free disk blocks, is dead
//     from that moment on. This is the guarantee that reaches copies the
//     database itself can no longer overwrite.
//  3. Keep the KEK out of the key database and its backups (a KMS, Vault,
//     or a secret manager for pii.LocalKeyWrapper's master key).
//
// # Shredding and old row versions
//
// Shredding sets the wrapped key to NULL; no soft delete, no flag. But an
// UPDATE leaves the old row version somewhere for a while, and each
// database lets it go differently:
//
//   - SQLite: the store turns on PRAGMA secure_delete for every write, so
//     SQLite overwrites the old content with zeros in the database file at
//     once (tested: the file is searched for the key's bytes after a
//     shred). In WAL mode, the WAL file still holds the pages written when
//     the key was created until a checkpoint: [KeyStore.Purge] checkpoints
//     and truncates it. A rollback journal is deleted at commit, but its
//     blocks stay on the file system until reused.
//   - PostgreSQL: an UPDATE leaves a dead tuple with the old key in the
//     table's pages until VACUUM removes it; autovacuum does so on its
//     own schedule, [KeyStore.Purge] at once (VACUUM of the two key tables;
//     VACUUM FULL rewrites them, under an exclusive lock). The WAL holds the
//     row images until its segments are recycled, and archived WAL (for
//     point-in-time recovery) and replicas' history as long as they are
//     kept: treat them as backups of the key database.
//   - MySQL/MariaDB (InnoDB): the old version goes to the undo log, which
//     the purge thread clears once no open transaction can see it
//     (seconds, unless a long transaction holds it); the redo log is
//     overwritten as it cycles. With row-based binary logging the binlog
//     holds the row images until binlog_expire_logs_seconds (MySQL) or
//     expire_logs_days (MariaDB) removes it: treat binlogs as backups of
//     the key database. Purge has nothing to ask for on demand.
//
// Everything the database cannot reach is handled by point 2 of "Key
// placement": old copies of a wrapped key are useless once its KEK is gone.
//
// # Migrations
//
// Each store owns a component of the schema ("keys", "holds") with its own
// numbered migrations, recorded in the migrations table. Opening a store
// applies the migrations its component lacks; a database already current
// costs one SELECT. Several processes may open stores at once: they take a
// lock per dialect (PostgreSQL pg_advisory_xact_lock, MySQL GET_LOCK,
// SQLite BEGIN IMMEDIATE) and the first one migrates while the others wait.
// On PostgreSQL and SQLite each migration runs in a transaction; MySQL
// commits DDL as it goes, so every statement is idempotent (CREATE TABLE IF
// NOT EXISTS, with its indexes). A database migrated by a newer build is
// left alone, as migrations only add.
//
// # Distributed SQL
//
// The PostgreSQL dialect runs unchanged on CockroachDB and YugabyteDB: keys
// are natural (subject, scope) and ULIDs, never sequences or SERIAL, so rows
// spread over ranges instead of piling onto the last one; a subject's key
// rows and its subjects row sort together, so one subject's writes touch
// one range. These databases run SERIALIZABLE and abort conflicting
// transactions with SQLSTATE 40001, which the store retries with bounded
// back-off ([Options.MaxRetries]); the retry path is tested on PostgreSQL
// at SERIALIZABLE. What that path requires of the host:
//
//   - Check that your version has pg_advisory_xact_lock; where it is
//     missing or locks nothing, open the stores once from one process (a
//     deploy step) before the others start. The statements are idempotent,
//     so a second runner only repeats them.
//   - The queries use only PostgreSQL features both databases document
//     (ON CONFLICT, FOR UPDATE, unnest of two arrays, ANY); they are tested
//     on PostgreSQL, not on CockroachDB or YugabyteDB.
//   - If one subject ID prefix is very hot (IDs that are sequential
//     numbers), consider hash-sharded indexes (CockroachDB USING HASH) on
//     the keys table: a schema change the store does not make for you.
//   - Keep the store's calls short: each is one transaction of a few
//     statements, and a retry reruns all of it.
//
// # Adding a store
//
// Every store of this package follows one pattern: a component name and a
// []migration in schema.go; an Open<Store>(ctx, db, dialect, *Options)
// that builds the shared base, migrates its component and prepares its
// statements for the dialect and prefix; methods that validate input, then
// run one transaction through the base (retried on serialization failures,
// IMMEDIATE and secure_delete on SQLite); a compile-time check against the
// interface; and a test that runs the interface's conformance suite on
// every backend.
//
// # Erasure stores
//
// [ErasureStore] keeps the records of an erasure.Service: it is its
// RequestStore, ReceiptStore and SuppressionStore at once. Open it like
// the other stores and hand [ErasureStore.Stores] to erasure.New:
//
//	log, err := sqlstore.OpenErasureStore(ctx, db, sqlstore.PostgreSQL, nil)
//	svc, err := erasure.New(log.Stores(), protector, keys, opts)
//
// The request log is what erasure.Service.Reapply works from after a
// backup restore, so it must not go back in time with the data it erases:
// keep it in the key store's database or another one of its own, not in
// the database whose backups get restored (or restore it from a later
// copy). Its component "erasure" has three tables:
//
//	<prefix>requests    id (ULID text) PRIMARY KEY, subject, kind, state,
//	                    next_due, updated_at, version, body; indexes
//	                    (subject, kind), (state), (next_due), (updated_at)
//	                    body: the rest of the request as a JSON document
//	                    ("v": 1): purposes, deadlines, identifier digests,
//	                    the history of transitions and the steps
//	<prefix>receipts    seq PRIMARY KEY, id UNIQUE, request_id, issued_at,
//	                    token (the signed receipt); index (request_id, seq)
//	<prefix>suppression digest PRIMARY KEY, request_id, added_at
//
// Update is one UPDATE conditional on the stored version (compare and
// swap). List turns the filter into a WHERE clause on the indexed columns,
// ordered by ID; erasure.Filter.Match is the reference and checks every
// row, and a time the columns cannot hold (outside 1678 to 2261) is left
// to it, List then reading on in pages. Add inserts up to 250 entries per
// statement, skipping stored digests, all in one transaction; Lookup asks
// once per 1,000 digests. A body that is not a request document (cut
// short, altered, copied from another row, written by a newer format) is
// reported as [ErrCorrupt] by Get and List and left as it is: the Service
// reads a request before it writes one, so it never writes over it.
//
// The receipts' seq is one global sequence: the position in the Service's
// one hash chain, where each receipt names the hash of the one before.
// Append reads the last seq and inserts the next in one transaction, and
// the primary key lets one of two racing appends win. A single point of
// contention is acceptable because the chain is serial by nature and
// appended rarely: once per completed or refused request, and once per
// scope shredded later.
//
// The tables grow by one requests row per request ever made, never
// deleted (the log is the record of what was done): about 0.8 KB of body
// for an erasure with one host system, plus some 120 bytes per further
// system. One receipts row per final outcome and one per later shred, the
// token about 0.8 KB plus some 100 bytes per system. One suppression row
// per distinct identifier erased, about 150 bytes with its index. Ten
// thousand erasures a year with two identifiers each and ten systems take
// some 40 MB a year.
//
// On distributed SQL: request IDs are ULIDs, which begin with their time,
// so new requests land at the end of the requests table, and every receipt
// append contends for the chain's tail, one range; under SERIALIZABLE a
// lost race aborts with 40001, is retried, and then reports
// erasure.ErrConflict, on which the Service reads the new head and tries
// again. Each append costs a consensus round trip on that range, which
// bounds the chain to some tens of appends a second across regions (more
// within one; estimated, not measured there): far more than requests
// arrive. Spreading it would break the one chain that makes the receipts
// provable. Suppression digests are keyed hashes, so their rows spread
// evenly.
//
// Every write of the erasure store is one transaction (tested by cutting
// the connection mid-statement, at COMMIT and in the third statement of a
// suppression batch). A connection lost at COMMIT leaves it unknown
// whether the write committed; repeating it settles it: Add is
// idempotent, and a repeated Update or Append that had committed reports
// erasure.ErrConflict or erasure.ErrExists.
//
// # Errors
//
// Stores return the sentinels of the interfaces they implement, wrapped as
// their contracts say ([pii.ErrForgotten], [pii.ErrKeyChanged],
// [pii.ErrKeyNotFound], [retention.ErrHoldExists], ...), and their own:
// [ErrInvalidArgument] for input refused before it reaches the database
// (including ShredKeys with no scopes), [ErrCorrupt] for a stored row that
// fails its checks, [ErrSerialization] when retries ran out, [ErrSchema]
// for a failed migration and [ErrClosed] after Close. Driver errors (a
// lost connection, a server that refuses) are wrapped with the operation's
// name. A failed call writes nothing: every write is one transaction. A
// connection lost at COMMIT leaves it unknown whether the transaction
// committed; every write of the key and hold stores is idempotent or
// compare-and-swap, so repeating the call settles it. No error carries key
// bytes or other stored values beyond a subject ID, scope or hold ID.
//
// # Concurrency
//
// Every store is safe for concurrent use by many goroutines, and by many
// processes sharing one database. Writes on a subject's keys lock that
// subject's row first (SELECT ... FOR UPDATE; SQLite writes one
// transaction at a time), so create-if-absent, tombstones and ShredSubject
// hold across processes: two processes creating a key for a new subject end
// with one key, and no key is created after a shred. Reads take no lock.
// Keys reads in pages and holds no connection while the caller works, so
// the caller may write to the store during an iteration (as
// pii.Protector.Rewrap does).
package sqlstore
