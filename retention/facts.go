package retention

import (
	"time"

	"github.com/personaldata/personaldata"
)

// Facts are what the evaluator knows about one record: what data it holds,
// whose, and when the events that start a rule's clock happened. A zero
// time means the event has not happened (yet).
//
// Facts are plain values; the evaluator only reads them, so one Facts may
// be evaluated from several goroutines at once.
type Facts struct {
	Subject          personaldata.SubjectID // whose data; used to find holds
	Category         personaldata.Category  // which kind of personal data
	Kind             string                 // the host's record kind, such as "invoice"
	Collected        time.Time              // when the data was collected or the record created
	LastActivity     time.Time              // when the subject was last active
	AccountClosed    time.Time              // when the account was closed, or its deletion asked for
	ContractEnded    time.Time              // when the contract ended
	ErasureRequested time.Time              // when the subject asked for erasure
	Events           []Event                // named host events, for TriggerEvent rules
	// Holds are legal holds the caller already knows of, placed on the
	// record or its subject (as returned by Evaluator.ActiveHolds); those
	// active at the evaluation time count. Decide and Sweep add the hold
	// store's holds themselves; EvaluateIgnoringHolds counts only these.
	Holds []Hold
}

// Event is a named host event in [Facts], such as "domain-expired". If an
// event name occurs more than once, the latest time counts. An Event is a
// plain value and safe to share.
type Event struct {
	Name string
	At   time.Time
}

// triggerTime returns when r's trigger happened, or the zero time.
func (f *Facts) triggerTime(r *Rule) time.Time {
	switch r.Trigger {
	case TriggerCollected, TriggerFiscalYearEnd:
		return f.Collected
	case TriggerLastActivity:
		return f.LastActivity
	case TriggerAccountClosed:
		return f.AccountClosed
	case TriggerContractEnded:
		return f.ContractEnded
	case TriggerErasureRequested:
		return f.ErasureRequested
	case TriggerEvent:
		var at time.Time
		for i := range f.Events {
			if f.Events[i].Name == r.Event && f.Events[i].At.After(at) {
				at = f.Events[i].At
			}
		}
		return at
	}
	return time.Time{}
}
