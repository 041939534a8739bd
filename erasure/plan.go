package erasure

import (
	"context"
	"fmt"
	"time"

	"github.com/personaldata/personaldata"
)

// Plan is what erasing a subject will do, computed without side effects.
type Plan struct {
	Subject personaldata.SubjectID
	At      time.Time
	// Scopes lists each key scope: shredded now, or kept until its
	// retention ends.
	Scopes []ScopePlan
	// Systems lists what each host system will be asked to do.
	Systems []SystemPlan
	// Recipients must be told of the erasure (Art. 19).
	Recipients []string
	// Consent is set if the erasure is recorded in the consent ledger.
	Consent bool
	// ForgetSubject is set if nothing is kept, so the subject is
	// forgotten (tombstoned) at once; otherwise after the last kept scope.
	ForgetSubject bool
}

// ScopePlan is the fate of one key scope.
type ScopePlan struct {
	Scope personaldata.Scope
	// Now is set if the scope is shredded at once; otherwise it is kept
	// until Until, for the reason below.
	Now                           bool
	Until                         time.Time
	RuleID, Citation, Explanation string
}

// SystemPlan is what a host system will be asked.
type SystemPlan struct {
	Name, Does string
}

// Plan computes what erasing subject now would do: which key scopes are
// shredded now and which are kept until when, and why (from
// Options.Retention), what each host system is asked, and which recipients
// are told. It changes nothing. It fails with ErrUnknownSubject if the
// Inventory knows no scope of subject.
func (s *Service) Plan(ctx context.Context, subject personaldata.SubjectID) (Plan, error) {
	if err := s.check(); err != nil {
		return Plan{}, err
	}
	now := s.o.Now()
	return s.plan(ctx, subject, now, now)
}

func (s *Service) plan(ctx context.Context, subject personaldata.SubjectID, requested, now time.Time) (Plan, error) {
	if err := subject.Validate(); err != nil {
		return Plan{}, fmt.Errorf("%w: %w", ErrUnknownSubject, err)
	}
	p := Plan{Subject: subject, At: now, Recipients: append([]string(nil), s.o.Recipients...), Consent: s.o.Consent != nil, ForgetSubject: true}
	scopes := []ScopeFacts{{Scope: personaldata.DefaultScope}}
	if s.o.Inventory != nil {
		var err error
		if scopes, err = s.o.Inventory.Scopes(ctx, subject); err != nil {
			return Plan{}, fmt.Errorf("erasure: plan: inventory: %w", err)
		}
		if len(scopes) == 0 {
			return Plan{}, fmt.Errorf("%w: %s has no data", ErrUnknownSubject, subject)
		}
	}
	seen := map[personaldata.Scope]bool{}
	for _, sf := range scopes {
		sp, err := s.decide(ctx, subject, sf, requested)
		if err != nil {
			return Plan{}, err
		}
		if seen[sp.Scope] {
			return Plan{}, fmt.Errorf("erasure: plan: inventory lists scope %s twice", sp.Scope)
		}
		seen[sp.Scope] = true
		p.ForgetSubject = p.ForgetSubject && sp.Now
		p.Scopes = append(p.Scopes, sp)
	}
	for _, sys := range s.o.Systems {
		p.Systems = append(p.Systems, SystemPlan{Name: sys.Name, Does: sys.Does})
	}
	return p, nil
}

func (s *Service) decide(ctx context.Context, subject personaldata.SubjectID, sf ScopeFacts, requested time.Time) (ScopePlan, error) {
	scope := sf.Scope.Normalize()
	if err := scope.Validate(); err != nil {
		return ScopePlan{}, fmt.Errorf("erasure: plan: %w", err)
	}
	sp := ScopePlan{Scope: scope, Now: true}
	if s.o.Retention == nil {
		return sp, nil
	}
	f := sf.Facts
	f.Subject = subject
	if f.ErasureRequested.IsZero() {
		f.ErasureRequested = requested
	}
	d, err := decideScope(ctx, s.o.Retention, "scope:"+string(scope), f)
	if err != nil {
		return ScopePlan{}, fmt.Errorf("erasure: plan: retention of scope %s: %w", scope, err)
	}
	sp.Now = d.due
	sp.RuleID, sp.Citation, sp.Explanation = d.ruleID, d.citation, d.explanation
	if !d.due {
		sp.Until = d.until
		if sp.Until.IsZero() { // kept indefinitely (a hold): look again in 30 days
			sp.Until = s.o.Now().AddDate(0, 0, 30)
		}
	}
	return sp, nil
}

// steps turns a plan into the steps of a request, in execution order.
func steps(p Plan, digests bool) []Step {
	var out []Step
	if digests {
		out = append(out, Step{Kind: StepSuppress, State: StepPending})
	}
	if p.Consent {
		out = append(out, Step{Kind: StepConsent, State: StepPending})
	}
	var now []personaldata.Scope
	for _, sp := range p.Scopes {
		if sp.Now {
			now = append(now, sp.Scope)
		}
	}
	if len(now) > 0 && !p.ForgetSubject {
		out = append(out, Step{Kind: StepShred, State: StepPending, Scopes: now})
	}
	if p.ForgetSubject {
		out = append(out, Step{Kind: StepForgetSubject, State: StepPending, Scopes: now})
	}
	for _, sys := range p.Systems {
		out = append(out, Step{Kind: StepErase, State: StepPending, Name: sys.Name})
	}
	for _, r := range p.Recipients {
		out = append(out, Step{Kind: StepNotify, State: StepPending, Name: r})
	}
	for _, sp := range p.Scopes {
		if !sp.Now {
			out = append(out, Step{Kind: StepShredLater, State: StepScheduled, Scopes: []personaldata.Scope{sp.Scope},
				Due: sp.Until, RuleID: sp.RuleID, Citation: sp.Citation, Explanation: sp.Explanation})
		}
	}
	if !p.ForgetSubject {
		out = append(out, Step{Kind: StepForgetSubject, State: StepScheduled})
	}
	return out
}
