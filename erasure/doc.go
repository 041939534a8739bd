// Package erasure handles data-subject requests (GDPR Art. 15 to 21) from
// intake to a signed receipt: deadlines, erasure planned before it acts and
// carried out in a safe, retryable order, data kept by law erased when its
// retention ends, receipts anyone can verify, and erased people who stay
// erased after a re-import or a backup restore.
//
// A [Service], made by [New], takes its storage as three small interfaces
// ([RequestStore], [ReceiptStore], [SuppressionStore]; [MemoryStore]
// implements all three), a [KeyShredder] (*pii.Protector), and options: the
// host systems to erase ([System], each with an [Eraser]), an [Inventory]
// of the subject's key scopes, a [RetentionDecider] (*retention.Evaluator),
// a [ConsentRecorder] (*consent.Ledger) and the recipients to tell
// ([Notifier]).
//
// # Requests and deadlines
//
// [Service.Submit] records a request of any [Kind] in state received. It is
// due one calendar month after receipt (Art. 12(3)), counted by [AddMonths]:
// 31 January is due 28 February, or 29 in a leap year. With
// [Options.PromiseDays] the host's own promise ("within 30 days after we
// verified your identity") runs from [Service.VerifyIdentity], and the
// earlier date wins. [Service.Extend] extends once, by one or two months
// from the original deadline, with the reason the person is told; the
// promise then no longer applies. [Service.DueSoon] and [Service.Overdue]
// list what needs attention.
//
// Every transition is recorded with its time and actor ([Transition]). One
// the state does not allow fails with [ErrWrongState] and records nothing;
// see [State] for the diagram. A request identical to one completed within
// [Options.RepeatWindow] names it in [Request.RepeatOf], and
// [Service.RefuseExcessive] refuses it (Art. 12(5)) with that request as
// evidence.
//
// Access, portability and rectification are carried out by the host, which
// confirms with [Service.Complete]. For a restriction (Art. 18) or an
// objection (Art. 21) Complete records restrict or object events in the
// consent ledger, which from then on refuses the processing.
//
// # Plan, then execute
//
// [Service.Plan] computes, without side effects, what erasing a subject
// does: for each key scope the [Inventory] lists, whether it is shredded
// now or kept until its retention ends (the rule and citation come from the
// retention policy, asked with the erasure request as a fact, and legal
// holds count); what each host system is asked; which recipients are told.
// [Service.Execute] stores the plan as the request's steps and carries them
// out.
//
// # Execution order
//
// Steps run in this order, and each step's outcome is stored as soon as it
// is known:
//
//  1. The plan itself is stored first. From then on the request log knows
//     everything still to do, so any failure or crash is retried by calling
//     Execute again, and completed steps are never repeated.
//  2. Suppression: the keyed hashes of the person's identifiers join the
//     suppression list, so an import running meanwhile is already stopped.
//  3. Consent: the erase event is recorded, so processing stops everywhere
//     the ledger is asked.
//  4. Shred: the keys of the scopes due now are destroyed. This reaches
//     every copy at once — rows, caches, logs, exports and backups — so
//     even if a host system fails below, the data is unreadable. It runs
//     before any row is deleted on purpose: while rows still exist, the
//     subject can be found and a failed shred retried; the reverse order
//     can lose track of the keys of someone whose rows are already gone.
//     If nothing is kept, this step forgets the whole subject (a subject
//     tombstone: no scope of it ever gets a key again).
//  5. Erase: each host system deletes or anonymises rows and blind-index
//     entries (which survive shredding), page by page, its cursor stored
//     after each page. Erasers find rows by subject ID or blind index, never
//     by decrypting. A system that fails, times out or panics is contained:
//     its step is marked failed with the reason, the other systems still
//     run, and [*ExecuteError] lists the failures ([ExecuteError.Unwrap]).
//  6. Notify: each recipient is told (Art. 19).
//  7. The request is completed and its receipt issued. Kept scopes stay
//     scheduled.
//
// # Kept data and scopes for periods
//
// A scope kept by law (invoices: 7 years after the end of the fiscal year)
// is shredded by [Service.RunDue], which the host calls periodically: it
// asks the retention policy again (a hold placed since keeps the scope),
// shreds what is due, and once the last kept scope is gone forgets the
// subject. Each shred adds a supplementary receipt.
//
// Records of one kind that expire at different times need a scope each:
// name scopes after the period that decides their retention, such as
// "fiscal-2025" and "fiscal-2026" for the invoices of each fiscal year.
// A pii struct tag names one scope per field, fixed for the type, so such
// fields are sealed with [pii.Protector.Seal] and opened with
// [pii.Protector.Open] under the record's period scope (examples/mailservice
// does this for its invoices), or kept in one struct type per period. The
// inventory reports each scope with the facts of its latest
// record (Collected in that fiscal year), so the invoices of 2025 are
// shredded a year before those of 2026, rather than all of them when the
// last one may go. A scope named "fiscal" for all years can only go with
// the newest invoice.
//
// # Receipts
//
// Every completed or refused request gets a [Receipt] without personal
// data: the request ID, a pseudonymous subject reference (a keyed hash),
// the scopes shredded, the counts each system removed and retained, the
// scopes kept with rule, citation and date, the recipients told, and a
// refusal's reason and evidence. Receipts form one hash chain (each names
// the SHA-256 of the previous token) and are signed as a compact JWS with
// EdDSA over Ed25519 (RFC 7515, RFC 8037; header typ "erasure-receipt+jwt"),
// so any JOSE library verifies one with [Service.PublicKey]. [Verify]
// checks one receipt, [VerifyChain] a run of them, [Service.VerifyReceipts]
// the whole store.
//
// # Erased people stay erased
//
// [Service.Suppressed] answers whether an e-mail address or phone number
// belongs to someone erased, from HMAC-SHA256 digests of the identifier
// normalised as pii's blind index normalises it; the identifier is never
// stored. Call it before an import, a sign-up or a re-subscription.
//
// Restore procedure: crypto-shredding reaches backups only if the keys do
// not come back with them. After restoring a backup of the database or the
// key store taken at time T:
//
//  1. Keep the request log (the [RequestStore]) from after T: store it apart
//     from the data, or restore it from a later copy.
//  2. Before serving traffic, call [Service.Reapply] with T. It shreds
//     again every key shredded since T, forgets again every subject
//     forgotten since T, asks every host system to erase again and
//     restores the suppression list and the consent erase events.
//  3. Check [Service.Suppressed] when importing anything restored.
//
// # Batches
//
// [Service.ExecuteBatch] executes many erasures phase by phase, storing
// each request once instead of once per step and asking each host system
// once per 500 subjects when its Eraser is also a [BatchEraser]. See its
// documentation for the trade-off.
//
// # Errors
//
// Sentinels: [ErrNotFound], [ErrExists], [ErrConflict], [ErrUnknownSubject],
// [ErrInvalidRequest], [ErrWrongState], [ErrWrongKind], [ErrClockBackwards],
// [ErrNoConsent], [ErrEraserPanicked], [ErrTimeout], [ErrInvalidReceipt]
// and [ErrClosed], checked with errors.Is. [*ExecuteError] lists failed
// steps as [*StepError] values. A clock that reads earlier than the last
// change of a request or of the receipt chain is refused with
// [ErrClockBackwards], recording nothing. Refuse, Complete and Execute
// record the outcome before they issue its receipt; if issuing fails,
// [Service.Receipt] issues it later (once). No error, String method or
// receipt holds personal data: subjects appear by their ID (in errors) or
// by a keyed hash (in receipts); host errors are stored capped in length,
// and erasers must keep personal data out of them.
//
// # Concurrency
//
// A Service is safe for concurrent use. Work on one request is serialised
// within a process; across processes sharing stores, [RequestStore.Update]
// compares versions and [ReceiptStore.Append] sequence numbers, so a lost
// race fails with [ErrConflict] (requests) or is retried (receipts). Within
// a process a request gets one final receipt however many goroutines
// execute it; two processes executing the same request at once may each
// issue one (both verify and say the same).
// [MemoryStore] is safe for concurrent use, and every store must be.
// [Request], [Plan] and [Receipt] are plain values.
package erasure
