package sqlstore

// The schema of the consent store: one row per subject (its chain head),
// one per event and one per definition. Keys are natural keys: (subject,
// seq) for events, subject for heads, (kind, id) for definitions. The order
// of definitions is a number the store computes in the transaction that
// inserts one (see ConsentStore.Define), never a sequence or
// auto-increment.

// consentComponent names the consent store's migrations.
const consentComponent = "consent"

// Column types of the consent tables. MySQL gets binary strings, so that
// subject IDs and purposes compare byte for byte, and MEDIUMBLOB for the
// encodings: a definition may be 1 MiB (consent.MaxDefinitionLen), past
// BLOB's 64 KiB.
func (d Dialect) consentIDType() string   { return d.pick("TEXT", "TEXT", "VARBINARY(64)") }
func (d Dialect) consentHashType() string { return d.pick("BLOB", "BYTEA", "VARBINARY(64)") }
func (d Dialect) consentDataType() string { return d.pick("BLOB", "BYTEA", "MEDIUMBLOB") }

var consentMigrations = []migration{{
	version: 1,
	name:    "consent heads, events and definitions",
	stmts: func(b *base) []string {
		d := b.d
		heads, events, defs := b.table("consent_heads"), b.table("consent_events"), b.table("consent_definitions")
		stmts := []string{
			// One row per subject with events: the length of its chain and
			// the hash of its last event. Append moves it with a
			// conditional UPDATE, in the transaction that inserts the
			// events, which is what makes Append compare-and-swap.
			"CREATE TABLE IF NOT EXISTS " + heads + " (" +
				"subject " + d.subjectType() + " NOT NULL PRIMARY KEY, " +
				"last_seq " + d.int64Type() + " NOT NULL, " +
				"last_hash " + d.consentHashType() + " NOT NULL)" + d.tableSuffix(),
			// One row per (subject, seq), byte for byte as appended.
			"CREATE TABLE IF NOT EXISTS " + events + " (" +
				"subject " + d.subjectType() + " NOT NULL, " +
				"seq " + d.int64Type() + " NOT NULL, " +
				"id " + d.consentIDType() + " NOT NULL, " +
				"purpose " + d.consentIDType() + " NOT NULL, " +
				"data " + d.consentDataType() + " NOT NULL, " +
				"hash " + d.consentHashType() + " NOT NULL, " +
				"PRIMARY KEY (subject, seq)",
			// One row per (kind, id), and the row (kind and id empty)
			// whose seq counts the definitions and which Define locks.
			"CREATE TABLE IF NOT EXISTS " + defs + " (" +
				"kind " + d.pick("TEXT", "TEXT", "VARBINARY(32)") + " NOT NULL, " +
				"id " + d.consentIDType() + " NOT NULL, " +
				"seq " + d.int64Type() + " NOT NULL, " +
				"data " + d.consentDataType() + " NOT NULL, " +
				"PRIMARY KEY (kind, id))" + d.tableSuffix(),
		}
		if d == MySQL {
			// No CREATE INDEX IF NOT EXISTS: the index comes with the
			// table, so the statement stays idempotent.
			stmts[1] += ", INDEX " + events + "_purpose (purpose, subject))" + d.tableSuffix()
			return stmts
		}
		stmts[1] += ")"
		return append(stmts, "CREATE INDEX IF NOT EXISTS "+events+"_purpose ON "+events+" (purpose, subject)")
	},
}}
