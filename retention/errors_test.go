package retention_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/retention"
)

// maxErrLen bounds an error that echoes outside input: every echoed value
// is cut to 64 bytes, so the whole message stays short.
const maxErrLen = 1024

// Errors echo outside input cut short: 10 MiB in never comes back as
// 10 MiB of error text.
func TestErrorsDoNotEchoLargeInput(t *testing.T) {
	t.Parallel()
	huge := strings.Repeat("x", 10<<20)
	big := strings.Repeat("y", 1<<20-512) // fits in a policy document
	rule := func(field, value string) []byte {
		r := map[string]string{"id": "a", "trigger": "collected", "period": "P1Y", "action": "delete", "basis": "consent"}
		r[field] = value
		var b strings.Builder
		b.WriteString(`{"rules":[{`)
		first := true
		for k, v := range r {
			if !first {
				b.WriteString(",")
			}
			first = false
			b.WriteString(`"` + k + `":"` + v + `"`)
		}
		b.WriteString(`}]}`)
		return []byte(b.String())
	}
	rec := retention.Record{Key: huge, Facts: retention.Facts{Category: "mail-log", Collected: day(2026, 1, 1)}}
	ev := newEvaluator(t, retention.ExamplePolicy(), nil)
	for _, tc := range []struct {
		name string
		err  func() error
	}{
		{"NewPolicy rule ID", func() error {
			r := validRule()
			r.ID = huge
			_, err := retention.NewPolicy(retention.PolicySpec{Rules: []retention.Rule{r}})
			return err
		}},
		{"NewPolicy category", func() error {
			r := validRule()
			r.Category = personaldata.Category(huge)
			_, err := retention.NewPolicy(retention.PolicySpec{Rules: []retention.Rule{r}})
			return err
		}},
		{"ParsePolicy trigger", func() error { _, err := retention.ParsePolicy(rule("trigger", big)); return err }},
		{"ParsePolicy action", func() error { _, err := retention.ParsePolicy(rule("action", big)); return err }},
		{"ParsePolicy period", func() error { _, err := retention.ParsePolicy(rule("period", big)); return err }},
		{"ParsePolicy basis", func() error { _, err := retention.ParsePolicy(rule("basis", big)); return err }},
		{"ParsePolicy rule ID", func() error { _, err := retention.ParsePolicy(rule("id", big)); return err }},
		{"ParsePolicy key", func() error { _, err := retention.ParsePolicy(rule(big, "1")); return err }},
		{"ParsePolicy fiscal year end", func() error {
			_, err := retention.ParsePolicy([]byte(`{"fiscal_year_end":"` + big + `","rules":[]}`))
			return err
		}},
		{"ParsePolicy too large", func() error { _, err := retention.ParsePolicy([]byte(huge)); return err }},
		{"ParseTrigger", func() error { _, err := retention.ParseTrigger(huge); return err }},
		{"ParseAction", func() error { _, err := retention.ParseAction(huge); return err }},
		{"ParsePeriod", func() error { _, err := retention.ParsePeriod(huge); return err }},
		{"Statement", func() error {
			_, err := mustPolicy(t, validRule()).Statement(personaldata.Category(huge), huge)
			return err
		}},
		{"Sweep order", func() error {
			recs := []retention.Record{{Key: huge + "b"}, {Key: huge + "a"}}
			_, err := ev.Sweep(context.Background(), seq(recs), nil, retention.SweepOptions{DryRun: true})
			return err
		}},
		{"Sweep failure", func() error {
			_, err := ev.Sweep(context.Background(), seq([]retention.Record{rec}), failingDisposer{}, retention.SweepOptions{})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.err()
			require.Error(t, err)
			assert.Less(t, len(err.Error()), maxErrLen, "error of %d bytes: %.200s", len(err.Error()), err.Error())
		})
	}
}

type failingDisposer struct{}

func (failingDisposer) Delete(context.Context, retention.Record) error {
	return errors.New("locked")
}
func (failingDisposer) Anonymise(context.Context, retention.Record) error {
	return errors.New("locked")
}
