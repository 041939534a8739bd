package retention_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/retention"
)

// FuzzParsePolicy checks that no input makes ParsePolicy panic, that every
// error is one of the package's (or the vocabulary's) sentinels and short
// whatever the input, and that
// an accepted policy round-trips through JSON to the same hash and can be
// evaluated. Seeds: testdata/*.json and testdata/fuzz/FuzzParsePolicy.
func FuzzParsePolicy(f *testing.F) {
	files, err := filepath.Glob("testdata/*.json")
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"rules":[{"id":"a","trigger":"event","event":"x","period":"P1M","action":"anonymize","basis":"contract"}]}`))
	f.Add([]byte(`{"fiscal_year_end":"02-29","rules":[{"id":"a","trigger":"fiscal-year-end","period":"P7Y","action":"delete","basis":"legal-obligation","citation":"c"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := retention.ParsePolicy(data)
		if err != nil {
			if !errors.Is(err, retention.ErrInvalidPolicy) && !errors.Is(err, retention.ErrInvalidRule) &&
				!errors.Is(err, retention.ErrDuplicateRule) && !errors.Is(err, retention.ErrUnknownTrigger) &&
				!errors.Is(err, retention.ErrUnknownAction) && !errors.Is(err, retention.ErrInvalidPeriod) &&
				!errors.Is(err, personaldata.ErrInvalidLegalBasis) && !errors.Is(err, personaldata.ErrInvalidCategory) {
				t.Fatalf("error %v wraps no sentinel", err)
			}
			if len(err.Error()) > maxErrLen {
				t.Fatalf("error of %d bytes echoes its input: %.200s", len(err.Error()), err)
			}
			return
		}
		again, err := json.Marshal(p)
		if err != nil {
			t.Fatalf("marshal accepted policy: %v", err)
		}
		q, err := retention.ParsePolicy(again)
		if err != nil {
			t.Fatalf("re-parse: %v\n%s", err, again)
		}
		if p.Hash() != q.Hash() {
			t.Fatalf("hash changed in a round trip:\n%s", again)
		}
		ev, err := retention.New(p, retention.NewMemoryHoldStore(), nil)
		if err != nil {
			t.Fatal(err)
		}
		at := time.Date(2026, 2, 28, 23, 0, 0, 0, time.UTC)
		for _, r := range p.Rules() {
			f := retention.Facts{Category: r.Category, Kind: r.Kind, Collected: at, LastActivity: at, AccountClosed: at,
				ContractEnded: at, ErasureRequested: at, Events: []retention.Event{{Name: r.Event, At: at}}}
			d := ev.EvaluateIgnoringHolds(f, at.AddDate(3, 0, 0))
			_ = d.Explain()
			if _, err := p.Statement(r.Category, r.Kind); err != nil {
				t.Fatalf("statement for a covered category: %v", err)
			}
		}
	})
}

// FuzzParsePeriod checks that ParsePeriod never panics, that what it
// accepts validates and round-trips through String, and that adding it
// never goes backwards.
func FuzzParsePeriod(f *testing.F) {
	for _, s := range []string{"P7Y", "P1M15D", "P2W", "P0D", "PT1H", "P-1D", "P1000Y", "P9999999D", "P1Y2M3W4D"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := retention.ParsePeriod(s)
		if err != nil {
			if !errors.Is(err, retention.ErrInvalidPeriod) {
				t.Fatalf("error %v does not wrap ErrInvalidPeriod", err)
			}
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("accepted %q but Validate: %v", s, err)
		}
		q, err := retention.ParsePeriod(p.String())
		if err != nil || q != p {
			t.Fatalf("%q: String %q parses to %v, %v", s, p.String(), q, err)
		}
		start := time.Date(2024, 1, 31, 12, 0, 0, 0, time.UTC)
		if end := p.AddTo(start, nil); end.Before(start) {
			t.Fatalf("%q: %s + %s = %s", s, start, p, end)
		}
	})
}
