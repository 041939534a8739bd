package retention

import (
	"fmt"

	"github.com/personaldata/personaldata/internal/quote"
)

// Trigger names the event that starts a rule's clock.
//
// The zero Trigger is not valid, so a forgotten field is caught by
// validation. A Trigger is a plain value and safe to share.
type Trigger uint8

// The triggers a rule can name. Each reads one timestamp of the [Facts].
const (
	TriggerCollected        Trigger = iota + 1 // Facts.Collected: the data was collected or the record created
	TriggerLastActivity                        // Facts.LastActivity: the subject was last active
	TriggerAccountClosed                       // Facts.AccountClosed: the account was closed or its deletion asked for
	TriggerContractEnded                       // Facts.ContractEnded: the contract ended
	TriggerFiscalYearEnd                       // the end of the fiscal year in which Facts.Collected falls
	TriggerErasureRequested                    // Facts.ErasureRequested: the subject asked for erasure
	TriggerEvent                               // the named host event Rule.Event in Facts.Events
)

var triggerNames = [...]string{
	TriggerCollected:        "collected",
	TriggerLastActivity:     "last-activity",
	TriggerAccountClosed:    "account-closed",
	TriggerContractEnded:    "contract-ended",
	TriggerFiscalYearEnd:    "fiscal-year-end",
	TriggerErasureRequested: "erasure-requested",
	TriggerEvent:            "event",
}

func (t Trigger) valid() bool { return t >= TriggerCollected && t <= TriggerEvent }

// String returns the trigger's name, such as "fiscal-year-end".
func (t Trigger) String() string {
	if !t.valid() {
		return fmt.Sprintf("Trigger(%d)", uint8(t))
	}
	return triggerNames[t]
}

// ParseTrigger parses the name String returns.
func ParseTrigger(s string) (Trigger, error) {
	for t := TriggerCollected; t <= TriggerEvent; t++ {
		if triggerNames[t] == s {
			return t, nil
		}
	}
	return 0, fmt.Errorf("%w: %s", ErrUnknownTrigger, quote.String(s))
}

// MarshalText implements [encoding.TextMarshaler].
func (t Trigger) MarshalText() ([]byte, error) {
	if !t.valid() {
		return nil, fmt.Errorf("%w: %d", ErrUnknownTrigger, uint8(t))
	}
	return []byte(triggerNames[t]), nil
}

// UnmarshalText implements [encoding.TextUnmarshaler].
func (t *Trigger) UnmarshalText(text []byte) error {
	v, err := ParseTrigger(string(text))
	if err != nil {
		return err
	}
	*t = v
	return nil
}
