// Package consent is an append-only, tamper-evident consent ledger that
// answers "may we process this person's data for this purpose at time T,
// and why".
//
// A [Ledger] holds registered [Purpose]s, each with its legal basis (GDPR
// Art. 6(1)(a)-(f)) and [Default], and the versions of the privacy
// statement as [Notice]s. The host records what subjects do as events —
// grant, withdraw, object, restrict, lift a restriction, erase, expire —
// with [Ledger.Record], and asks [Ledger.Decide] (one subject) or
// [Ledger.Filter] (a mailing list of a million) for decisions. Events are
// kept by a [Store]; [MemoryStore] keeps them in memory, and
// [github.com/personaldata/personaldata/consent/consenttest] is the
// conformance suite every Store runs.
//
// # Events and the chain
//
// Every event carries an ID (a ULID drawn from crypto/rand), the subject,
// the purpose, when it took effect and when it was recorded, the notice
// version shown, the [Method] and [Actor], a hash of the evidence, and an
// optional expiry. The events of a subject form a chain: each event's hash
// covers its canonical, versioned encoding, which includes the previous
// event's hash. [Ledger.Verify] detects an edited, missing, reordered or
// inserted event and says where with a [*ChainError]. Anchoring the head
// hash elsewhere, or setting Options.ChainKey, also catches a chain that
// was rewritten as a whole.
//
// Personal data an event carries ([PersonalData]: the e-mail address a
// newsletter grant was made for, free-text evidence) is sealed with the
// [Sealer] (a *pii.Protector) under the subject's key before it is stored,
// and the chain hashes the ciphertext. After the subject's key is shredded
// the chain still verifies, decisions still answer and nothing personal
// reads back: [Ledger.Reveal] fails with the sealer's erasure error.
//
// # Decisions
//
// [Ledger.Decide] looks at the events that took effect at or before the
// time asked about, so a withdrawal is not retroactive: a decision about a
// moment before it is still allowed. In order:
//
//	situation                                     allowed  reason
//	no event of the subject at all                no       unknown-subject
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
//	consent: no grant                             no       no-consent
//	legitimate interests / public task            yes      legitimate-interests / public-task
//	... after an objection                        no       objected
//	... after a privacy signal, no earlier choice no       privacy-signal
//	... opt-in default, no grant                  no       not-granted
//
// Withdrawing or objecting to a purpose on contract, legal obligation or
// vital interests is refused with [ErrWithdrawalRefused]. A browser privacy
// signal (Global Privacy Control) is recorded but never overrides an
// explicit earlier choice of the subject. An objection to a direct
// marketing purpose is absolute: only the subject's (or guardian's) own
// later grant takes it back, never an administrator's. A grant by a subject
// under Options.AgeOfConsent (16 by default) counts only if a guardian gave
// it. A grant under a notice version stops counting when a later version
// that requires fresh consent for its purpose takes effect. After an
// erasure the ledger accepts no more events for the subject.
//
// # Errors
//
// The sentinel errors ([ErrUnknownPurpose], [ErrNoticeNotInForce],
// [ErrWithdrawalRefused], [ErrConflict], [ErrTampered], [ErrClosed],
// [ErrNoSealer], ...) are wrapped with an operation prefix; test them with
// [errors.Is]. A broken chain is a [*ChainError] that wraps [ErrTampered].
// A rejected event appends nothing. No error, String method or log value of
// this package contains personal data: [PersonalData] and [Change] redact
// themselves in fmt and log/slog.
//
// # Concurrency
//
// A [Ledger] and a [MemoryStore] are safe for concurrent use. The Ledger
// serialises writes per subject, and appends with optimistic concurrency on
// the chain's length, so several processes may share a store: a write that
// loses a race reloads the subject and is validated again. Decisions come
// from an in-memory index that a Ledger updates on its own writes; call
// [Ledger.Sync] to see another process's events. The other types are plain
// values, safe to share once built.
package consent
