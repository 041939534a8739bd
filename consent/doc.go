// Package consent is an append-only, tamper-evident consent ledger that
// answers "may we process this person's data for this purpose at time T,
// and why".
//
// A [Ledger] holds registered [Purpose]s, each with its legal basis (GDPR
// Art. 6(1)(a)-(f)) and [Default], and the versions of the privacy
// statement as [Notice]s. The host records what subjects do as events —
// grant, withdraw, object, restrict, lift a restriction, erase, expire —
// with [Ledger.Record], and asks [Ledger.Decide] (one subject) or
// [Ledger.Filter] (a mailing list of a million) for decisions. Everything
// is kept by a [Store]; [MemoryStore] keeps it in memory, and
// [github.com/personaldata/personaldata/consent/consenttest] is the
// conformance suite every Store runs.
//
// # Storage and restarts
//
// A [Store] keeps two things: the event chains, one [StoredEvent] row per
// event, and the definitions, one [StoredDefinition] row per purpose and
// notice version. [Ledger.AddPurpose], [Ledger.AddNotice] and the
// Purposes and Notices of [Options] store each new definition before it
// takes effect, and [New] loads the stored ones first. So a restarted
// ledger answers every past question as before — a purpose registered
// with a zero Since keeps the time it was first registered — and every
// earlier notice version stays readable ([Ledger.Notices],
// [Ledger.NoticeVersion]), with its text ([Notice.Text]) or location
// ([Notice.URL]), content hash, announcement and effective dates.
// Definitions are immutable: registering an ID again with other settings
// fails, in this process or any other sharing the store.
//
// # Events and the chain
//
// Every event carries an ID (a ULID drawn from crypto/rand), the subject,
// the purpose, when it took effect and when it was recorded, the notice
// version shown, the [Method] and [Actor], a hash of the evidence, and an
// optional expiry. The events of a subject form a chain: each event's hash
// covers its canonical, versioned encoding, which includes the previous
// event's hash. [Ledger.Verify] detects an edited, missing, reordered or
// inserted event and says where with a [*ChainError].
//
// A running ledger remembers the head (length and hash) of every chain it
// verified, and never accepts a chain that does not pass through it:
// [Ledger.Sync], [Ledger.Verify] and the reload of [Ledger.Record] after a
// conflict report a chain that ends earlier ([ChainTruncated]) or that
// passes elsewhere, shorter, as long or longer ([ChainRewritten]), and the
// subject keeps its last verified state: decisions answer from it, writes
// fail. Setting Options.ChainKey keys the hashes (HMAC-SHA256), so that
// someone who can write the store cannot forge a consistent chain; signed
// checkpoints carry the heads across a restart and to third parties.
//
// Personal data an event carries ([PersonalData]: the e-mail address a
// newsletter grant was made for, free-text evidence) is sealed with the
// [Sealer] (a *pii.Protector) under the subject's key before it is stored,
// and the chain hashes the ciphertext. After the subject's key is shredded
// the chain still verifies, decisions still answer and nothing personal
// reads back: [Ledger.Reveal] fails with the sealer's erasure error.
//
// # Checkpoints
//
// [Ledger.Checkpoint] commits to every subject's chain at once, as a
// transparency log's signed tree head does, and signs it with the Ed25519
// key Options.CheckpointKey. The host keeps the text ([Checkpoint.MarshalText])
// wherever it likes, away from the store, and starts the next ledger with it
// as Options.Checkpoint: [New] then loads as broken every subject whose
// chain no longer passes through the checkpoint's head (a deleted or
// rewritten tail), including a subject deleted altogether.
// [Ledger.VerifyConsistency] proves that a newer checkpoint extends an older
// one. A third party given only [Checkpoint.Note] verifies it with any
// signed-note implementation (golang.org/x/mod/sumdb/note with
// [CheckpointVerifierKey]), and one subject's leaf with
// [Checkpoint.InclusionProof] and [VerifyInclusion], without the others.
//
// The tree is the Merkle tree of RFC 6962 and RFC 9162 section 2.1 over one
// leaf per subject with events, sorted by subject ID (bytewise). A leaf is
//
//	uvarint   length of the subject ID in bytes
//	bytes     the subject ID
//	8 bytes   the number of events in the chain, big-endian
//	32 bytes  the chain hash of its last event
//
// The leaf hash is SHA-256(0x00 || leaf), an interior node SHA-256(0x01 ||
// left || right); the tree over n > 1 leaves splits after the largest power
// of two below n, and the tree of no leaves hashes to SHA-256 of nothing.
// The checkpoint text is a signed note (C2SP signed-note) whose body is a
// C2SP tlog-checkpoint, followed by the leaves:
//
//	<origin>\n                     the key name, Options.CheckpointName
//	<n>\n                          number of leaves, decimal
//	<root>\n                       tree root, base64 (standard, padded)
//	\n                             a blank line ends the signed body
//	— <name> <signature>\n         U+2014, space, key name, space, base64 of
//	                               4-byte key ID || 64-byte Ed25519 signature
//	                               of the body (the first three lines)
//	leaf <length> <head> <subject>\n  n times, in tree order: decimal length,
//	                               base64 head, base64 subject ID
//
// The key ID is the first 4 bytes of SHA-256(name || "\n" || 0x01 ||
// public key), as signed-note defines it. Everything up to the last
// signature line is [Checkpoint.Note]; the leaf lines are authenticated by
// hashing to the signed root. [ParseCheckpoint] checks all of this.
//
// # Decisions
//
// [Ledger.Decide] looks at the events that took effect at or before the
// time asked about, so a withdrawal is not retroactive: a decision about a
// moment before it is still allowed. In order:
//
//	situation                                     allowed  reason
//	time before the purpose existed               no       before-purpose
//	subject erased (not legal obligation)         no       erased
//	processing restricted, all or this purpose    no       restricted
//	basis contract                                yes      contract
//	basis legal obligation                        yes      legal-obligation
//	basis vital interests                         yes      vital-interests
//	consent: grant in force                       yes      granted
//	consent: grant past its expiry                no       expired
//	consent: later notice requires fresh consent  no       fresh-consent-required
//	consent: only a child's grant, no guardian    no       guardian-required
//	consent: withdrawn                            no       withdrawn
//	consent: objected                             no       objected
//	consent: no grant (or no event at all)        no       no-consent
//	legitimate interests / public task            yes      legitimate-interests / public-task
//	... after an objection                        no       objected
//	... after a privacy signal, no earlier choice no       privacy-signal
//	... opt-in default, no grant                  no       not-granted
//
// A subject without any event is decided by these rules with an empty
// history: contract, legal obligation and vital interests allowed,
// legitimate interests and public task allowed (unless opt-in), consent not
// allowed (no-consent). [Ledger.Filter] over the host's own list of
// subjects, such as every customer, decides each the same way, so a
// service announcement reaches customers who never touched the ledger.
//
// Withdrawing or objecting to a purpose on contract, legal obligation or
// vital interests is refused with [ErrWithdrawalRefused]. A browser privacy
// signal (Global Privacy Control) is recorded but never overrides an
// explicit earlier choice of the subject. An objection to a direct
// marketing purpose is absolute, whatever the purpose's basis: only the
// subject's (or guardian's) own later grant takes it back, never an
// administrator's. A grant by a subject under Options.AgeOfConsent (16 by
// default) counts only if a guardian gave it. A grant under a notice
// version stops counting when a later version that requires fresh consent
// for its purpose takes effect. After an erasure the ledger accepts no
// more events for the subject. Times outside 1680-2260 are refused by
// Record and Decide alike ([ErrTimeRange]).
//
// # Receipts
//
// [Ledger.Receipt] gives the consent receipt of a grant with the fields of
// the Kantara Consent Receipt specification v1.1 (which ISO/IEC TS 27560
// builds on), tied to the ledger by the notice version and the grant's
// chain hash. [Receipt.Sign] signs it as the specification's JSON Web
// Token: a compact JWS with EdDSA over Ed25519 (RFC 7515, RFC 8037), header
// typ "JWT", which any JOSE library verifies with the controller's public
// key; [VerifyReceipt] verifies one here.
//
// # Conflicts and back-off
//
// Several ledgers may share a store. [Ledger.Record] appends on condition
// that the chain still has the length it last saw; when another writer
// appended first ([ErrConflict]) it waits, reloads and verifies the
// subject, validates the change again and retries. The wait before retry
// n is random between 0 and min(Max, Base·2ⁿ) (exponential back-off with
// full jitter), for at most Attempts retries; the defaults ([Retry]: 32
// attempts, 1ms, 250ms) let eight ledgers write one subject at once, on
// a loaded database server too.
//
// # Errors
//
// The sentinel errors ([ErrUnknownPurpose], [ErrNoticeNotInForce],
// [ErrWithdrawalRefused], [ErrConflict], [ErrTampered], [ErrTimeRange],
// [ErrBadCheckpoint], [ErrClosed], [ErrNoSealer], ...) are wrapped with an
// operation prefix; test them with [errors.Is]. A broken chain is a
// [*ChainError] that wraps [ErrTampered] and says where and what
// ([ChainProblem]). A rejected event appends nothing. Input echoed in an
// error (a purpose ID, a notice version, a subject ID) is quoted and cut
// to 64 bytes. No error, String method or log value of this package
// contains personal data: [PersonalData] and [Change] redact themselves
// in fmt and log/slog. [New] with a nil store returns an error.
//
// # Concurrency
//
// A [Ledger] and a [MemoryStore] are safe for concurrent use. The Ledger
// serialises writes per subject, and appends with optimistic concurrency on
// the chain's length, so several processes may share a store. Decisions
// come from an in-memory index that a Ledger updates on its own writes;
// call [Ledger.Sync] to see another process's events (and New again to see
// its new definitions). The other types are plain values, safe to share
// once built.
package consent
