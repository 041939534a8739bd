package retention_test

import (
	"bytes"
	"context"
	"fmt"
	"iter"
	"time"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/retention"
)

// fixedClock makes examples deterministic.
func fixedClock() time.Time { return time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC) }

func ExampleEvaluator_Decide() {
	ev, err := retention.New(retention.ExamplePolicy(), retention.NewMemoryHoldStore(), &retention.Options{Clock: fixedClock})
	if err != nil {
		panic(err)
	}
	// An invoice of March 2024 whose customer asked for erasure.
	invoice := retention.Facts{
		Subject:          "customer-1017",
		Category:         "billing",
		Kind:             "invoice",
		Collected:        time.Date(2024, 3, 15, 0, 0, 0, 0, time.UTC),
		ErasureRequested: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC),
	}
	// Decide asks the hold store first: data under a legal hold is kept.
	d, err := ev.Decide(context.Background(), "invoice-2024-0042", invoice)
	if err != nil {
		panic(err)
	}
	fmt.Println(d)
	fmt.Println(d.Explain())
	// Output:
	// keep until 2032-01-01 (legal-retention, rule "invoices")
	// This data is kept until 1 January 2032 because the law requires it: Invoices and payment data are kept for 7 years after the end of the fiscal year, as Dutch tax law requires (AWR art. 52 lid 4). This takes precedence over rule "erasure".
}

// EvaluateIgnoringHolds is the pure evaluation, without the hold store: for
// what-if questions and hot loops whose holds are checked another way.
func ExampleEvaluator_EvaluateIgnoringHolds() {
	spec := retention.PolicySpec{Rules: []retention.Rule{{
		ID: "trial", Category: "account", Trigger: retention.TriggerCollected,
		Period: retention.Period{Months: 1}, Action: retention.Delete, Basis: personaldata.Contract,
	}}}
	p, err := retention.NewPolicy(spec)
	if err != nil {
		panic(err)
	}
	ev, err := retention.New(p, retention.NewMemoryHoldStore(), nil)
	if err != nil {
		panic(err)
	}
	for _, start := range []string{"2026-01-30", "2026-01-31", "2028-01-31", "2026-03-31"} {
		t, _ := time.Parse(time.DateOnly, start)
		d := ev.EvaluateIgnoringHolds(retention.Facts{Category: "account", Collected: t}, t)
		fmt.Println(start, "+ P1M =", d.Until.Format(time.DateOnly))
	}
	// Output:
	// 2026-01-30 + P1M = 2026-02-28
	// 2026-01-31 + P1M = 2026-02-28
	// 2028-01-31 + P1M = 2028-02-29
	// 2026-03-31 + P1M = 2026-04-30
}

func ExamplePolicy_Statement() {
	st, err := retention.ExamplePolicy().Statement("billing", "invoice")
	if err != nil {
		panic(err)
	}
	fmt.Println(st.Basis, "-", st.Citation)
	fmt.Println(st.Summary)
	// Output:
	// legal-obligation - AWR art. 52 lid 4; GDPR Art. 12(3), 17
	// Invoices and payment data are kept for 7 years after the end of the fiscal year, as Dutch tax law requires (AWR art. 52 lid 4). When you ask us to erase your data, data that no law requires us to keep is deleted within 30 days (GDPR Art. 12(3), 17).
}

func ExampleEvaluator_Statement() {
	ev, err := retention.New(retention.ExamplePolicy(), retention.NewMemoryHoldStore(), &retention.Options{Clock: fixedClock})
	if err != nil {
		panic(err)
	}
	// Refusing to erase an invoice: when may it go, and why?
	st, err := ev.Statement(context.Background(), "invoice-2024-0042", retention.Facts{
		Subject:          "customer-1017",
		Category:         "billing",
		Kind:             "invoice",
		Collected:        time.Date(2024, 3, 15, 9, 30, 0, 0, time.UTC),
		ErasureRequested: fixedClock(),
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(st.EarliestDisposal.Format(time.DateOnly), st.Basis, "-", st.Citation)
	// Output:
	// 2032-01-01 legal-obligation - AWR art. 52 lid 4; GDPR Art. 12(3), 17
}

// memTable is a host table for the sweep example.
type memTable map[string]retention.Record

func (m memTable) Delete(_ context.Context, r retention.Record) error {
	if _, ok := m[r.Key]; !ok {
		return retention.ErrNotFound
	}
	delete(m, r.Key)
	fmt.Println("deleted", r.Key)
	return nil
}

func (m memTable) Anonymise(_ context.Context, r retention.Record) error {
	fmt.Println("anonymised", r.Key)
	return nil
}

func ExampleEvaluator_Sweep() {
	ctx := context.Background()
	ev, err := retention.New(retention.ExamplePolicy(), retention.NewMemoryHoldStore(), &retention.Options{
		Clock:   fixedClock,
		Entropy: bytes.NewReader(make([]byte, 64)),
	})
	if err != nil {
		panic(err)
	}
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	table := memTable{
		"log-1":     {Key: "log-1", Facts: retention.Facts{Subject: "c-1", Category: "mail-log", Collected: day(2026, 4, 1)}},
		"log-2":     {Key: "log-2", Facts: retention.Facts{Subject: "c-2", Category: "mail-log", Collected: day(2026, 4, 2)}},
		"log-3":     {Key: "log-3", Facts: retention.Facts{Subject: "c-3", Category: "mail-log", Collected: day(2026, 6, 10)}},
		"invoice-1": {Key: "invoice-1", Facts: retention.Facts{Subject: "c-1", Category: "billing", Collected: day(2018, 2, 1)}},
	}
	// The host reads its table in key order; a database would ORDER BY key.
	scan := func(yield func(retention.Record, error) bool) {
		for _, k := range []string{"invoice-1", "log-1", "log-2", "log-3"} {
			if !yield(table[k], nil) {
				return
			}
		}
	}
	// Customer c-2 is in a dispute: nothing of theirs may go.
	if _, err := ev.PlaceHold(ctx, retention.Hold{Subject: "c-2", Reason: "dispute 2026-14", PlacedBy: "legal"}); err != nil {
		panic(err)
	}

	dry, err := ev.Sweep(ctx, iter.Seq2[retention.Record, error](scan), table, retention.SweepOptions{DryRun: true})
	if err != nil {
		panic(err)
	}
	fmt.Println("dry run would delete", dry.ByVerdict[retention.Delete], "and hold", dry.Held)

	rep, err := ev.Sweep(ctx, scan, table, retention.SweepOptions{})
	if err != nil {
		panic(err)
	}
	fmt.Println("deleted", rep.Deleted, "held", rep.Held, "kept", rep.ByVerdict[retention.Keep], "cursor", rep.Cursor)
	fmt.Println("by rule:", rep.ByRule)
	// Output:
	// dry run would delete 2 and hold 1
	// deleted invoice-1
	// deleted log-1
	// deleted 2 held 1 kept 2 cursor log-3
	// by rule: map[:1 invoices:1 mail-log:2]
}

func ExampleParsePeriod() {
	for _, s := range []string{"P7Y", "P1M15D", "P2W", "PT1H"} {
		p, err := retention.ParsePeriod(s)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("%s = %d years, %d months, %d days\n", p, p.Years, p.Months, p.Days)
	}
	// Output:
	// P7Y = 7 years, 0 months, 0 days
	// P1M15D = 0 years, 1 months, 15 days
	// P14D = 0 years, 0 months, 14 days
	// retention: invalid period: "PT1H": retention periods are in calendar years, months, weeks and days, not hours
}

func ExampleParsePolicy() {
	p, err := retention.ParsePolicy([]byte(`{
		"name": "newsletter",
		"rules": [{
			"id": "inactive-subscribers", "category": "email", "kind": "subscription",
			"trigger": "last-activity", "period": "P18M", "action": "delete", "basis": "consent"
		}]
	}`))
	if err != nil {
		panic(err)
	}
	fmt.Println(p.Name(), len(p.Rules()))

	_, err = retention.ParsePolicy([]byte(`{"rules": [{"id": "a", "trigger": "birthday", "period": "P1Y", "action": "delete", "basis": "consent"}]}`))
	fmt.Println(err)
	// Output:
	// newsletter 1
	// retention: invalid policy: retention: unknown trigger: "birthday"
}

func ExampleEvaluator_PlaceHold() {
	ctx := context.Background()
	ev, err := retention.New(retention.ExamplePolicy(), retention.NewMemoryHoldStore(), &retention.Options{
		Clock:   fixedClock,
		Entropy: bytes.NewReader(make([]byte, 64)), // use crypto/rand (the default) in production
	})
	if err != nil {
		panic(err)
	}
	h, err := ev.PlaceHold(ctx, retention.Hold{Subject: "customer-1017", Reason: "court order 2026/117", PlacedBy: "legal-2"})
	if err != nil {
		panic(err)
	}
	fmt.Println(h)
	d, err := ev.Decide(ctx, "log-9", retention.Facts{Subject: "customer-1017", Category: "mail-log", Collected: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		panic(err)
	}
	fmt.Println(d)
	if _, err := ev.ReleaseHold(ctx, h.ID, "legal-2"); err != nil {
		panic(err)
	}
	d, _ = ev.Decide(ctx, "log-9", retention.Facts{Subject: "customer-1017", Category: "mail-log", Collected: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)})
	fmt.Println(d)
	// Output:
	// hold 01KV5JE8G00000000000000000 on subject "customer-1017" (active)
	// keep indefinitely (hold, 1 hold)
	// delete since 2020-01-31 (deletion, rule "mail-log")
}
