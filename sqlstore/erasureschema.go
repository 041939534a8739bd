package sqlstore

// The schema of the "erasure" component: the tables of [ErasureStore].
// Requests and receipts are keyed by ULIDs and the chain position, the
// suppression list by digest; none uses a sequence or auto-increment.

var erasureMigrations = []migration{{
	version: 1,
	name:    "requests, receipts and suppression list",
	stmts: func(b *base) []string {
		d := b.d
		req, rc, sup := b.table("requests"), b.table("receipts"), b.table("suppression")
		// One row per request: the columns List filters on, and the rest
		// of the request (purposes, deadlines, history, steps) as a JSON
		// document in body.
		createReq := "CREATE TABLE IF NOT EXISTS " + req + " (" +
			"id " + d.ulidType() + " NOT NULL PRIMARY KEY, " +
			"subject " + d.subjectType() + " NOT NULL, " +
			"kind " + d.int16Type() + " NOT NULL, " +
			"state " + d.int16Type() + " NOT NULL, " +
			"next_due " + d.int64Type() + " NULL, " +
			"updated_at " + d.int64Type() + " NULL, " +
			"version " + d.int64Type() + " NOT NULL, " +
			"body " + d.docType() + " NOT NULL"
		// One row per receipt, keyed by its position in the one chain.
		createRc := "CREATE TABLE IF NOT EXISTS " + rc + " (" +
			"seq " + d.int64Type() + " NOT NULL PRIMARY KEY, " +
			"id " + d.ulidType() + " NOT NULL, " +
			"request_id " + d.ulidType() + " NOT NULL, " +
			"issued_at " + d.int64Type() + " NULL, " +
			"token " + d.docType() + " NOT NULL"
		// One row per suppressed identifier digest: the first entry.
		createSup := "CREATE TABLE IF NOT EXISTS " + sup + " (" +
			"digest " + d.digestType() + " NOT NULL PRIMARY KEY, " +
			"request_id " + d.ulidType() + " NOT NULL, " +
			"added_at " + d.int64Type() + " NULL)" + d.tableSuffix()
		if d == MySQL {
			// Indexes with the table: MySQL has no CREATE INDEX IF NOT
			// EXISTS.
			return []string{
				createReq + ", INDEX " + req + "_subject (subject, kind), INDEX " + req + "_state (state), " +
					"INDEX " + req + "_next_due (next_due), INDEX " + req + "_updated (updated_at))" + d.tableSuffix(),
				createRc + ", UNIQUE INDEX " + rc + "_id (id), INDEX " + rc + "_request (request_id, seq))" + d.tableSuffix(),
				createSup,
			}
		}
		return []string{
			createReq + ")",
			"CREATE INDEX IF NOT EXISTS " + req + "_subject ON " + req + " (subject, kind)",
			"CREATE INDEX IF NOT EXISTS " + req + "_state ON " + req + " (state)",
			"CREATE INDEX IF NOT EXISTS " + req + "_next_due ON " + req + " (next_due)",
			"CREATE INDEX IF NOT EXISTS " + req + "_updated ON " + req + " (updated_at)",
			createRc + ")",
			"CREATE UNIQUE INDEX IF NOT EXISTS " + rc + "_id ON " + rc + " (id)",
			"CREATE INDEX IF NOT EXISTS " + rc + "_request ON " + rc + " (request_id, seq)",
			createSup,
		}
	},
}}

// docType holds a JSON document or a signed token: bytes, up to 16 MiB on
// MySQL (MEDIUMBLOB; a BLOB stops at 64 KiB).
func (d Dialect) docType() string { return d.pick("BLOB", "BYTEA", "MEDIUMBLOB") }

// digestType holds a suppression digest (43 bytes of base64url for the
// Service's digests; up to maxDigestLen).
func (d Dialect) digestType() string { return d.pick("TEXT", "TEXT", "VARBINARY(64)") }
