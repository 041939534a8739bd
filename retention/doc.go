// Package retention decides how long personal data is kept, and what
// happens to it then: keep, delete, anonymise or review. It explains every
// decision, respects legal holds, and sweeps the host's records safely.
//
// A [Policy] is a validated set of [Rule] values: which data (a
// [personaldata.Category] and/or a host record kind), what starts the
// clock (a [Trigger]: collection, last activity, account closed, contract
// ended, end of the fiscal year, an erasure request or a named host
// event), how long (a calendar [Period], such as "P7Y"), what happens then
// (an [Action]), and the legal basis and citation. Policies are written in
// Go ([PolicySpec], [NewPolicy]) or JSON ([ParsePolicy]) and carry a
// stable [Hash].
//
// An [Evaluator], made by [New], applies a policy. [Evaluator.Decide] is
// the call to make before deleting, anonymising or refusing to erase
// anything: it asks the [HoldStore] for the legal holds on the record and
// its subject, and turns the [Facts] of the record into a [Decision] at
// the evaluator's clock time: the verdict, until when, when to look again,
// the winning rule, the rules it overrode, the holds in force, the policy
// hash and an explanation that can be shown to the data subject
// ([Decision.Explain]). [Evaluator.EvaluateIgnoringHolds] is the same
// evaluation without the hold store, at a given time: pure and
// allocation-free, for hot loops and what-if questions whose holds are
// checked another way. [Evaluator.Sweep] walks the host's records and
// carries out what is due through the host's [Disposer].
// [Evaluator.Statement] (for one record, holds included) and
// [Policy.Statement] (for a category) describe retention for an access
// export or an erasure refusal. [ExamplePolicy] shows the promises of a
// Dutch mail and hosting provider's privacy statement as a policy.
//
// For an erasure request, set [Facts].ErasureRequested and call Decide: a
// Keep verdict with reason [ReasonLegalRetention] or [ReasonHold] is data
// that must be kept despite the request (Until says until when; zero while
// a hold lasts or a legal clock has not started), and Statement gives the
// words that tell the data subject so.
//
// # Conflict order
//
// When several rules cover the same data, the decision follows a fixed
// order; the first step that applies decides:
//
//  1. A legal hold: while any hold on the record or its subject is active,
//     the data is kept, indefinitely.
//  2. Retention required by law (basis [personaldata.LegalObligation]):
//     while such a rule's period runs, or has not started, the data is kept
//     until the latest such period ends. This beats an erasure request.
//  3. An erasure request (a rule with [TriggerErasureRequested] whose
//     request has been made): other retention (step 4) no longer counts;
//     the data goes at the earliest deadline, the erasure rule's included.
//  4. The longest other retention (rules with Retain set): while such a
//     period runs, or has not started, the data is kept until the latest
//     one ends.
//  5. The earliest deletion: if rules are due, the strongest action wins
//     (delete, then anonymise, then review), then the earliest due; if
//     none is due, the data is kept until the earliest deadline.
//
// An erasure request counts only through rules with
// [TriggerErasureRequested]: a policy that honours erasure requests needs
// one, typically covering all data (as in [ExamplePolicy]). A rule whose
// trigger has not happened (a zero time in the Facts) takes part only in
// steps 2 and 4. Data that no rule covers is kept (reason
// [ReasonNoRule]); a sweep's report counts it under the rule ID "". Ties
// are broken by rule ID, never by the order of the rules, so reordering a
// policy changes neither its decisions nor its hash.
//
// # Calendar rules
//
// Periods are counted on the calendar and wall clock of the evaluator's
// location ([Options].Location, UTC by default). Years and months are added
// first and a day that does not exist is clamped to the end of the month
// (31 January + P1M = 28 or 29 February; 29 February + P1Y = 28 February);
// then days are added. See [Period] for daylight saving time. A rule with
// [TriggerFiscalYearEnd] starts its clock at the end of the fiscal year in
// which the record was collected: midnight after the policy's
// [PolicySpec].FiscalYearEnd (31 December by default), in the evaluator's
// location. An invoice of 15 March 2024 kept for P7Y under a calendar
// fiscal year may go from 1 January 2032.
//
// # Legal holds
//
// A [Hold] is placed on a subject or on one record, has no end date and
// lasts until released. Holds are reached through the Evaluator only:
// [Evaluator.PlaceHold], [Evaluator.ReleaseHold], [Evaluator.Hold],
// [Evaluator.ActiveHolds] and [Evaluator.ListHolds]. They live in a
// [HoldStore] (contract in its documentation); [MemoryHoldStore] keeps them
// in memory, and package retention/retentiontest checks any
// implementation. Decide and Statement ask the store on every call; a
// sweep asks it right before it acts on a record, so a hold placed while a
// sweep runs is respected from the next record on.
//
// # Sweeps and resuming
//
// A sweep reads records in ascending key order and reports its progress
// as a cursor ([Report].Cursor, also given to [SweepOptions].Checkpoint):
// the key up to which every record was handled. The cursor never passes a
// record whose action failed, so a sweep resumed from it
// ([SweepOptions].After) retries every failure; records after the first
// failure are evaluated again, which the idempotent [Disposer] makes
// harmless. The host persists the cursor wherever it likes (a string).
// Failures never get lost when a sweep stops early: the error is then a
// [*SweepError] with the failures and the cause of the stop.
//
// # Policy files
//
// [ParsePolicy] reads the JSON form strictly, because a typo must never
// shorten a retention period: a key repeated in any object, a key in
// another case than documented, an unknown key, and a rule without "id",
// "trigger", "period", "action" or "basis" (or with a null value) are
// errors naming the rule and the key.
//
// # Errors
//
// The sentinel errors [ErrInvalidPolicy], [ErrInvalidRule],
// [ErrDuplicateRule], [ErrUnknownTrigger], [ErrUnknownAction],
// [ErrInvalidPeriod], [ErrNoRule], [ErrNoHoldStore], [ErrInvalidHold],
// [ErrHoldExists], [ErrHoldNotFound], [ErrHoldReleased], [ErrNotFound],
// [ErrInvalidRecord] and [ErrOutOfOrder] are checked with [errors.Is]. A
// [*RuleError] names the rule a validation error is about; a
// [*SweepError] lists per-record failures ([*RecordError]) and the cause
// of an early stop, and unwraps to all of them. [New] reports a nil
// dependency as "retention: New: nil Policy" or "retention: New: nil
// HoldStore". No error, String method or explanation contains personal
// data: records appear by their host key, subjects by their
// [personaldata.SubjectID]; every value an error repeats from outside is
// cut to 64 bytes.
//
// # Concurrency
//
// [Policy] and [Evaluator] are immutable after construction and safe for
// concurrent use; [MemoryHoldStore] is safe for concurrent use, and every
// [HoldStore] must be. [Decision], [Statement], [Rule], [Period] and [Hold]
// are plain values. A [Report] and a [PolicySpec] are plain structs that
// must not be modified while read elsewhere. A [Disposer] is called from
// the goroutine that called Sweep; several sweeps call it concurrently.
package retention
