package retention_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/personaldata/personaldata/retention"
)

func TestParsePeriod(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want retention.Period
		str  string
	}{
		{"P7Y", retention.Period{Years: 7}, "P7Y"},
		{"P1M15D", retention.Period{Months: 1, Days: 15}, "P1M15D"},
		{"P24M", retention.Period{Months: 24}, "P24M"},
		{"P30D", retention.Period{Days: 30}, "P30D"},
		{"P2W", retention.Period{Days: 14}, "P14D"},
		{"P1W2D", retention.Period{Days: 9}, "P9D"},
		{"P0D", retention.Period{}, "P0D"},
		{"P1Y2M3D", retention.Period{Years: 1, Months: 2, Days: 3}, "P1Y2M3D"},
		{"P1000Y", retention.Period{Years: 1000}, "P1000Y"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			got, err := retention.ParsePeriod(tc.in)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.str, got.String())
			again, err := retention.ParsePeriod(got.String())
			require.NoError(t, err)
			assert.Equal(t, got, again)
		})
	}
}

func TestParsePeriodErrors(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		"", "P", "7Y", "p7y", "P7y", "PT1H", "P1DT1H", "P-1Y", "P+1Y", "P1.5Y", "P1D1Y", "P1Y1Y",
		"P1M1W1M", "PY", "P1", "P1001Y", "P99999999D", "P1Z", " P1Y", "P1Y ", "P1Y\x00",
	} {
		t.Run(in, func(t *testing.T) {
			t.Parallel()
			_, err := retention.ParsePeriod(in)
			assert.ErrorIs(t, err, retention.ErrInvalidPeriod)
		})
	}
}

func TestPeriodValidate(t *testing.T) {
	t.Parallel()
	assert.ErrorIs(t, retention.Period{Days: -1}.Validate(), retention.ErrInvalidPeriod)
	assert.ErrorIs(t, retention.Period{Years: 1001}.Validate(), retention.ErrInvalidPeriod)
	assert.NoError(t, retention.Period{Years: 7}.Validate())
	assert.Equal(t, "Period{0,-1,0}", retention.Period{Months: -1}.String())
	_, err := retention.Period{Months: -1}.MarshalText()
	assert.ErrorIs(t, err, retention.ErrInvalidPeriod)
}

func date(y int, m time.Month, d, hh, mm int, loc *time.Location) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, loc)
}

func endOfDay(y int, m time.Month, d int, loc *time.Location) time.Time {
	return time.Date(y, m, d, 23, 59, 59, 999_999_999, loc)
}

func TestPeriodAddTo(t *testing.T) {
	t.Parallel()
	ams, err := time.LoadLocation("Europe/Amsterdam")
	require.NoError(t, err)
	for _, tc := range []struct {
		name   string
		start  time.Time
		period string
		loc    *time.Location
		want   time.Time
	}{
		{"31 Jan + 1 month clamps to the end of 28 Feb", date(2026, 1, 31, 12, 0, time.UTC), "P1M", nil, endOfDay(2026, 2, 28, time.UTC)},
		{"31 Jan + 1 month in a leap year clamps to 29 Feb", date(2028, 1, 31, 12, 0, time.UTC), "P1M", nil, endOfDay(2028, 2, 29, time.UTC)},
		{"28 Feb + 1 month is 28 Mar, no clamping", date(2026, 2, 28, 12, 0, time.UTC), "P1M", nil, date(2026, 3, 28, 12, 0, time.UTC)},
		{"31 Jan + 1 month 1 day is 1 Mar", date(2026, 1, 31, 0, 0, time.UTC), "P1M1D", nil, endOfDay(2026, 3, 1, time.UTC)},
		{"29 Feb + 1 year is 28 Feb", date(2028, 2, 29, 8, 0, time.UTC), "P1Y", nil, endOfDay(2029, 2, 28, time.UTC)},
		{"29 Feb + 4 years is 29 Feb", date(2028, 2, 29, 8, 0, time.UTC), "P4Y", nil, date(2032, 2, 29, 8, 0, time.UTC)},
		{"31 Mar + 1 month clamps to 30 Apr", date(2026, 3, 31, 0, 0, time.UTC), "P1M", nil, endOfDay(2026, 4, 30, time.UTC)},
		{"31 Dec + 2 months clamps to 28 Feb", date(2026, 12, 31, 0, 0, time.UTC), "P2M", nil, endOfDay(2027, 2, 28, time.UTC)},
		{"clamping in a zone", date(2026, 1, 31, 9, 0, ams), "P1M", ams, endOfDay(2026, 2, 28, ams)},
		{"24 months", date(2024, 5, 17, 0, 0, time.UTC), "P24M", nil, date(2026, 5, 17, 0, 0, time.UTC)},
		{"30 days over a month end", date(2026, 1, 15, 0, 0, time.UTC), "P30D", nil, date(2026, 2, 14, 0, 0, time.UTC)},
		{"zero period is the start", date(2026, 1, 15, 3, 4, time.UTC), "P0D", nil, date(2026, 1, 15, 3, 4, time.UTC)},
		{"wall clock kept across spring forward", date(2026, 3, 28, 12, 0, ams), "P1D", ams, date(2026, 3, 29, 12, 0, ams)},
		{"wall clock kept across fall back", date(2026, 10, 24, 12, 0, ams), "P1D", ams, date(2026, 10, 25, 12, 0, ams)},
		{"a time in the spring gap moves to the end of the gap", date(2026, 3, 28, 2, 30, ams), "P1D", ams, date(2026, 3, 29, 3, 0, ams)},
		{"a repeated time is its later occurrence", date(2026, 10, 24, 2, 30, ams), "P1D", ams, time.Date(2026, 10, 25, 1, 30, 0, 0, time.UTC)},
		{"counted in the evaluator's location", date(2026, 1, 31, 23, 30, time.UTC), "P1M", ams, date(2026, 3, 1, 0, 30, ams)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := retention.ParsePeriod(tc.period)
			require.NoError(t, err)
			got := p.AddTo(tc.start, tc.loc)
			assert.True(t, got.Equal(tc.want), "got %s, want %s", got, tc.want)
		})
	}
}

func TestAddDateDiffers(t *testing.T) {
	t.Parallel()
	// The documented difference from time.Time.AddDate.
	start := date(2026, 1, 31, 0, 0, time.UTC)
	assert.Equal(t, date(2026, 3, 3, 0, 0, time.UTC), start.AddDate(0, 1, 0))
	assert.Equal(t, endOfDay(2026, 2, 28, time.UTC), retention.Period{Months: 1}.AddTo(start, nil))
}

func TestFiscalYearEnd(t *testing.T) {
	t.Parallel()
	ams, err := time.LoadLocation("Europe/Amsterdam")
	require.NoError(t, err)
	for _, tc := range []struct {
		name string
		md   retention.MonthDay
		t    time.Time
		loc  *time.Location
		want time.Time
	}{
		{"calendar year", retention.MonthDay{}, date(2024, 3, 15, 10, 0, time.UTC), nil, date(2025, 1, 1, 0, 0, time.UTC)},
		{"last day belongs to the year", retention.MonthDay{}, date(2024, 12, 31, 23, 59, time.UTC), nil, date(2025, 1, 1, 0, 0, time.UTC)},
		{"first day of the next year", retention.MonthDay{}, date(2025, 1, 1, 0, 0, time.UTC), nil, date(2026, 1, 1, 0, 0, time.UTC)},
		{"year ending 30 June, event before", retention.MonthDay{Month: 6, Day: 30}, date(2025, 2, 1, 0, 0, time.UTC), nil, date(2025, 7, 1, 0, 0, time.UTC)},
		{"year ending 30 June, event after", retention.MonthDay{Month: 6, Day: 30}, date(2025, 7, 1, 0, 0, time.UTC), nil, date(2026, 7, 1, 0, 0, time.UTC)},
		{"year ending 29 Feb in a common year", retention.MonthDay{Month: 2, Day: 29}, date(2025, 1, 10, 0, 0, time.UTC), nil, date(2025, 3, 1, 0, 0, time.UTC)},
		{"in the evaluator's zone: New Year's Eve 23:30 UTC is 2025 in Amsterdam", retention.MonthDay{}, date(2024, 12, 31, 23, 30, time.UTC), ams, date(2026, 1, 1, 0, 0, ams)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := tc.md.FiscalYearEnd(tc.t, tc.loc)
			assert.True(t, got.Equal(tc.want), "got %s, want %s", got, tc.want)
		})
	}
}

func TestMonthDayText(t *testing.T) {
	t.Parallel()
	var md retention.MonthDay
	require.NoError(t, md.UnmarshalText([]byte("06-30")))
	assert.Equal(t, retention.MonthDay{Month: 6, Day: 30}, md)
	assert.Equal(t, "12-31", retention.MonthDay{}.String())
	for _, bad := range []string{"", "6-30", "13-01", "02-30", "00-00", "ab-cd", "12-31x"} {
		assert.ErrorIs(t, md.UnmarshalText([]byte(bad)), retention.ErrInvalidPolicy, bad)
	}
}

// randomPeriod and randomTime draw from fixed seeds, so failures repeat.
func randomPeriod(r *rand.Rand) retention.Period {
	return retention.Period{Years: r.IntN(12), Months: r.IntN(40), Days: r.IntN(400)}
}

func randomTime(r *rand.Rand, loc *time.Location) time.Time {
	// 1990..2060, minute resolution, biased to month ends and DST days.
	t := time.Date(1990+r.IntN(70), time.Month(1+r.IntN(12)), 1+r.IntN(31), r.IntN(24), r.IntN(60), 0, 0, loc)
	if r.IntN(4) == 0 {
		t = time.Date(t.Year(), t.Month()+1, 0, t.Hour(), t.Minute(), 0, 0, loc) // last day of month
	}
	return t
}

func TestPeriodProperties(t *testing.T) {
	t.Parallel()
	ams, err := time.LoadLocation("Europe/Amsterdam")
	require.NoError(t, err)
	ny, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	for _, loc := range []*time.Location{time.UTC, ams, ny} {
		t.Run(loc.String(), func(t *testing.T) {
			t.Parallel()
			r := rand.New(rand.NewPCG(1, uint64(len(loc.String()))))
			for range 20000 {
				p := randomPeriod(r)
				a := randomTime(r, loc)
				end := p.AddTo(a, loc)

				// Never backwards; a non-zero period always moves forward.
				if end.Before(a) || (!p.IsZero() && !end.After(a)) {
					t.Fatalf("%s + %s = %s goes backwards", a, p, end)
				}
				// Clamping: the day is the start's day or the last of the
				// month when no days are added.
				if p.Days == 0 {
					_, _, ad := a.Date()
					ey, em, ed := end.Date()
					last := time.Date(ey, em+1, 0, 0, 0, 0, 0, time.UTC).Day()
					if ed != ad && ed != last {
						t.Fatalf("%s + %s = %s: day %d is neither %d nor the month's last", a, p, end, ed, ad)
					}
					if ed > ad {
						t.Fatalf("%s + %s = %s: clamping went past the start day", a, p, end)
					}
					// Month arithmetic is exact.
					months := (ey-a.Year())*12 + int(em) - int(a.Month())
					if months != 12*p.Years+p.Months {
						t.Fatalf("%s + %s = %s: %d months", a, p, end, months)
					}
				}
				// Years and months, then days: adding the days separately
				// gives the same result.
				ym := retention.Period{Years: p.Years, Months: p.Months}.AddTo(a, loc)
				if d := (retention.Period{Days: p.Days}).AddTo(ym, loc); !d.Equal(end) && loc == time.UTC {
					t.Fatalf("%s + %s = %s, in two steps %s", a, p, end, d)
				}
				// Monotonic in the start (by wall clock): a later start never
				// ends earlier.
				b := a.Add(time.Duration(r.IntN(72*60)) * time.Minute)
				if wall(b).Before(wall(a)) {
					continue // b in a repeated hour; see the Period docs
				}
				if eb := p.AddTo(b, loc); eb.Before(end) {
					t.Fatalf("monotonicity: %s + %s = %s, but later %s + %s = %s", a, p, end, b, p, eb)
				}
				// Monotonic in the period.
				q := p
				q.Days++
				if eq := q.AddTo(a, loc); !eq.After(end) {
					t.Fatalf("%s + %s = %s not after %s + %s = %s", a, q, eq, a, p, end)
				}
			}
		})
	}
}

// wall returns t's wall clock as a UTC time, to compare wall clocks.
func wall(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
}

func TestFiscalYearEndProperties(t *testing.T) {
	t.Parallel()
	ams, err := time.LoadLocation("Europe/Amsterdam")
	require.NoError(t, err)
	r := rand.New(rand.NewPCG(2, 3))
	for range 20000 {
		md := retention.MonthDay{Month: time.Month(1 + r.IntN(12))}
		md.Day = 1 + r.IntN(28)
		a := randomTime(r, ams)
		end := md.FiscalYearEnd(a, ams)
		if !end.After(a) {
			t.Fatalf("fiscal year of %s ends %s, not after", a, end)
		}
		if end.After(a.AddDate(1, 0, 1)) {
			t.Fatalf("fiscal year of %s ends %s, more than a year later", a, end)
		}
		if h, m, _ := end.In(ams).Clock(); h != 0 || m != 0 {
			t.Fatalf("fiscal year of %s ends %s, not at midnight", a, end)
		}
		// Every time in the same fiscal year ends at the same moment.
		if end2 := md.FiscalYearEnd(end.Add(-time.Minute), ams); !end2.Equal(end) {
			t.Fatalf("fiscal year of %s ends %s, but of %s ends %s", a, end, end.Add(-time.Minute), end2)
		}
		next := md.FiscalYearEnd(end, ams)
		if days := next.Sub(end).Hours() / 24; days < 364.9 || days > 366.1 {
			t.Fatalf("fiscal year after %s ends %s, %.1f days later", end, next, days)
		}
	}
}
