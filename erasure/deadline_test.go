package erasure_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/personaldata/personaldata/erasure"
)

func TestAddMonths(t *testing.T) {
	t.Parallel()
	ams, _ := time.LoadLocation("Europe/Amsterdam")
	tests := []struct {
		name string
		in   time.Time
		n    int
		want time.Time
	}{
		{"31 January to 28 February", day(2026, 1, 31), 1, day(2026, 2, 28)},
		{"31 January to 29 February in a leap year", day(2028, 1, 31), 1, day(2028, 2, 29)},
		{"30 January", day(2026, 1, 30), 1, day(2026, 2, 28)},
		{"15 March", day(2026, 3, 15), 1, day(2026, 4, 15)},
		{"31 March to 30 April", day(2026, 3, 31), 1, day(2026, 4, 30)},
		{"over the year end", day(2026, 12, 31), 1, day(2027, 1, 31)},
		{"three months from 30 November", day(2026, 11, 30), 3, day(2027, 2, 28)},
		{"keeps the time", time.Date(2026, 1, 31, 17, 45, 3, 9, time.UTC), 1, time.Date(2026, 2, 28, 17, 45, 3, 9, time.UTC)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := erasure.AddMonths(tc.in, tc.n, time.UTC); !got.Equal(tc.want) {
				t.Fatalf("AddMonths(%s, %d) = %s, want %s", tc.in, tc.n, got, tc.want)
			}
		})
	}
	// In a location, the calendar day is that location's.
	in := time.Date(2026, 1, 31, 23, 30, 0, 0, time.UTC) // 1 February 00:30 in Amsterdam
	if got := erasure.AddMonths(in, 1, ams); got.Day() != 1 || got.Month() != time.March {
		t.Fatalf("in Amsterdam: %s", got)
	}
}

// TestAddMonthsProperties checks the calendar rules on random dates: the
// result lies in the target month, on the same day or the month's last,
// at the same wall-clock time, after the start, and never earlier for a
// later start.
func TestAddMonthsProperties(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		a := time.Unix(rng.Int64N(4e9), rng.Int64N(1e9)).UTC()
		b := a.Add(time.Duration(rng.Int64N(int64(90 * 24 * time.Hour))))
		n := 1 + rng.IntN(3)
		ra, rb := erasure.AddMonths(a, n, time.UTC), erasure.AddMonths(b, n, time.UTC)
		wantMonth := (int(a.Month())-1+n)%12 + 1
		if int(ra.Month()) != wantMonth {
			t.Fatalf("%s + %d months = %s: wrong month", a, n, ra)
		}
		last := time.Date(ra.Year(), ra.Month()+1, 0, 0, 0, 0, 0, time.UTC).Day()
		if ra.Day() != min(a.Day(), last) {
			t.Fatalf("%s + %d months = %s: wrong day", a, n, ra)
		}
		if ra.Hour() != a.Hour() || ra.Minute() != a.Minute() || ra.Nanosecond() != a.Nanosecond() {
			t.Fatalf("%s + %d months = %s: wall clock changed", a, n, ra)
		}
		if !ra.After(a) {
			t.Fatalf("%s + %d months = %s: not after", a, n, ra)
		}
		if rb.Before(ra) {
			t.Fatalf("%s is after %s but due earlier: %s < %s", b, a, rb, ra)
		}
		if r2 := erasure.AddMonths(a, n+1, time.UTC); !r2.After(ra) {
			t.Fatalf("a longer period ends no later: %s", r2)
		}
	}
}

func TestDeadlines(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		promise  int
		received time.Time
		verify   time.Duration // after receipt; 0 = not verified
		extend   int
		want     time.Time
	}{
		{"one month", 0, day(2026, 1, 31), 0, 0, day(2026, 2, 28)},
		{"leap year", 0, day(2028, 1, 31), 0, 0, day(2028, 2, 29)},
		{"promise not running before verification", 30, day(2026, 3, 1), 0, 0, day(2026, 4, 1)},
		{"promise earlier", 14, day(2026, 3, 1), 24 * time.Hour, 0, day(2026, 3, 16)},
		{"legal deadline earlier than promise", 30, day(2026, 1, 31), 24 * time.Hour, 0, day(2026, 2, 28)},
		{"extended by two months", 14, day(2026, 1, 31), 24 * time.Hour, 2, day(2026, 4, 30)},
		{"extended by one month", 0, day(2026, 3, 31), 24 * time.Hour, 1, day(2026, 5, 31)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, func(o *erasure.Options) { o.PromiseDays = tc.promise })
			f.clk.Set(tc.received)
			r, err := f.svc.Submit(f.ctx, erasure.Submission{Subject: "s-1", Kind: erasure.KindAccess, Actor: "subject"})
			if err != nil {
				t.Fatal(err)
			}
			if tc.verify > 0 {
				f.clk.Add(tc.verify)
				if r, err = f.svc.VerifyIdentity(f.ctx, r.ID, "staff"); err != nil {
					t.Fatal(err)
				}
			}
			if tc.extend > 0 {
				if r, err = f.svc.Extend(f.ctx, r.ID, "staff", tc.extend, "many systems to search"); err != nil {
					t.Fatal(err)
				}
			}
			if !r.Due.Equal(tc.want) {
				t.Fatalf("due %s, want %s", r.Due, tc.want)
			}
		})
	}
}
