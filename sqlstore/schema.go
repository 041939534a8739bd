package sqlstore

// The schema of each component, as migrations. Primary keys are natural
// keys (subject, then scope; a hold's ULID): no sequence or
// auto-increment, so rows spread over the ranges of a distributed database
// and every row of one subject sits together.

var keyMigrations = []migration{{
	version: 1,
	name:    "subjects and keys",
	stmts: func(b *base) []string {
		d := b.d
		return []string{
			// One row per subject that ever had a key or a tombstone:
			// the row a write on that subject locks first, and the
			// subject tombstone (shredded_at not NULL).
			"CREATE TABLE IF NOT EXISTS " + b.table("subjects") + " (" +
				"subject " + d.subjectType() + " NOT NULL PRIMARY KEY, " +
				"shredded_at " + d.int64Type() + " NULL)" + d.tableSuffix(),
			// One row per (subject, scope): an active key (state 1,
			// kek_id, wrapped and checksum set) or a tombstone (state 2,
			// all three NULL).
			"CREATE TABLE IF NOT EXISTS " + b.table("keys") + " (" +
				"subject " + d.subjectType() + " NOT NULL, " +
				"scope " + d.scopeType() + " NOT NULL, " +
				"state " + d.int16Type() + " NOT NULL, " +
				"kek_id " + d.kekType() + " NULL, " +
				"wrapped " + d.blobType() + " NULL, " +
				"checksum " + d.blobType() + " NULL, " +
				"created_at " + d.int64Type() + " NULL, " +
				"shredded_at " + d.int64Type() + " NULL, " +
				"PRIMARY KEY (subject, scope))" + d.tableSuffix(),
		}
	},
}}

var holdMigrations = []migration{{
	version: 1,
	name:    "holds",
	stmts: func(b *base) []string {
		d := b.d
		t := b.table("holds")
		create := "CREATE TABLE IF NOT EXISTS " + t + " (" +
			"id " + d.ulidType() + " NOT NULL PRIMARY KEY, " +
			"subject " + d.subjectType() + " NULL, " +
			"record_key " + d.recordType() + " NULL, " +
			"reason " + d.textType() + " NOT NULL, " +
			"citation " + d.textType() + " NOT NULL, " +
			"placed_by " + d.textType() + " NOT NULL, " +
			"placed_at " + d.int64Type() + " NULL, " +
			"released_at " + d.int64Type() + " NULL, " +
			"released_by " + d.textType() + " NULL"
		if d == MySQL {
			// MySQL has no CREATE INDEX IF NOT EXISTS: indexes are
			// declared with the table, so the statement stays idempotent.
			return []string{create + ", INDEX " + t + "_subject (subject, released_at), INDEX " + t + "_record (record_key, released_at))" + d.tableSuffix()}
		}
		return []string{
			create + ")",
			"CREATE INDEX IF NOT EXISTS " + t + "_subject ON " + t + " (subject, released_at)",
			"CREATE INDEX IF NOT EXISTS " + t + "_record ON " + t + " (record_key, released_at)",
		}
	},
}}
