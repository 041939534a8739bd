package retention

import (
	"strconv"
	"strings"
	"time"
)

// dateLayout is how explanations and statements show dates.
const dateLayout = "2 January 2006"

// Explain returns an explanation of d in plain English that can be shown
// to the data subject: the verdict, until when, the rule and its citation,
// and which rules it took precedence over. It contains no personal data.
func (d Decision) Explain() string {
	var b strings.Builder
	var r *Rule
	if d.policy != nil && d.winner >= 0 {
		r = &d.policy.rules[d.winner]
	}
	date := func(t time.Time) string { return t.In(d.loc).Format(dateLayout) }
	switch {
	case d.Reason == ReasonHold:
		verb := " applies"
		if d.ActiveHolds != 1 {
			verb = " apply"
		}
		b.WriteString("This data is kept for now: " + plural(d.ActiveHolds, "legal hold") + verb + " to it, and nothing under a legal hold is deleted until the hold is released.")
	case d.Reason == ReasonNotStarted:
		b.WriteString("This data is kept for now: none of the retention periods that apply to it has started yet, so no deletion is scheduled.")
	case d.Reason == ReasonNoRule || r == nil:
		b.WriteString("No retention rule covers this data, so no deletion is scheduled for it.")
	case d.Verdict == Keep && d.Reason == ReasonLegalRetention:
		if d.Until.IsZero() {
			b.WriteString("This data is kept because the law requires it, for a period that has not started yet: " + describe(r) + ".")
		} else {
			b.WriteString("This data is kept until " + date(d.Until) + " because the law requires it: " + describe(r) + ".")
		}
	case d.Verdict == Keep && d.Reason == ReasonErasure:
		b.WriteString("Your erasure request is being carried out: this data is " + r.Action.past() + " on " + date(d.Until) + " (" + describe(r) + ").")
	case d.Verdict == Keep && d.Reason == ReasonRetention:
		if d.Until.IsZero() {
			b.WriteString("This data is kept for a period that has not started yet: " + describe(r) + ".")
		} else {
			b.WriteString("This data is kept until " + date(d.Until) + ": " + describe(r) + ".")
		}
	case d.Verdict == Keep:
		b.WriteString("This data is kept until " + date(d.Until) + ", then " + r.Action.past() + ": " + describe(r) + ".")
	case d.Reason == ReasonErasure:
		b.WriteString("Because of your erasure request this data is to be " + r.Action.past() + " now (" + describe(r) + ").")
	default:
		b.WriteString("The retention period of this data ended on " + date(d.Until) + "; it is to be " + r.Action.past() + " now: " + describe(r) + ".")
	}
	if d.nOver > 0 {
		b.WriteString(" This takes precedence over ")
		for i := range int(d.nOver) {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("rule " + strconv.Quote(d.policy.rules[d.overridden[i]].ID))
		}
		if more := d.OverriddenCount - int(d.nOver); more > 0 {
			b.WriteString(" and " + strconv.Itoa(more) + " more")
		}
		b.WriteString(".")
	}
	return b.String()
}

// past returns the action as a past participle: "deleted".
func (a Action) past() string {
	switch a {
	case Delete:
		return "deleted"
	case Anonymise:
		return "anonymised"
	case Review:
		return "reviewed"
	}
	return "kept"
}

// describe says what a rule does, from its summary or its fields, with its
// citation.
func describe(r *Rule) string {
	s := strings.TrimSuffix(strings.TrimSpace(r.Summary), ".")
	if s == "" {
		what := "data"
		if r.Category != "" {
			what = string(r.Category) + " data"
		}
		if r.Period.IsZero() {
			s = what + " is " + r.Action.past() + " at once " + r.triggerPhrase()
		} else {
			s = what + " is kept for " + r.Period.describe() + " " + r.triggerPhrase() + ", then " + r.Action.past()
		}
	}
	if r.Citation != "" {
		s += " (" + r.Citation + ")"
	}
	return s
}

func (r *Rule) triggerPhrase() string {
	switch r.Trigger {
	case TriggerCollected:
		return "after it was collected"
	case TriggerLastActivity:
		return "after the last activity"
	case TriggerAccountClosed:
		return "after the account is closed"
	case TriggerContractEnded:
		return "after the contract ends"
	case TriggerFiscalYearEnd:
		return "after the end of the fiscal year"
	case TriggerErasureRequested:
		return "after an erasure request"
	case TriggerEvent:
		return "after the event " + strconv.Quote(r.Event)
	}
	return "after " + r.Trigger.String()
}

// describe returns p in words: "7 years", "1 month and 15 days", "0 days".
func (p Period) describe() string {
	if p.IsZero() {
		return "0 days"
	}
	var parts []string
	if p.Years != 0 {
		parts = append(parts, plural(p.Years, "year"))
	}
	if p.Months != 0 {
		parts = append(parts, plural(p.Months, "month"))
	}
	if p.Days != 0 {
		parts = append(parts, plural(p.Days, "day"))
	}
	switch len(parts) {
	case 1:
		return parts[0]
	case 2:
		return parts[0] + " and " + parts[1]
	}
	return parts[0] + ", " + parts[1] + " and " + parts[2]
}
