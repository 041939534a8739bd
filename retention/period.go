package retention

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/personaldata/personaldata/internal/quote"
)

// Limits on a [Period]. They keep every date computation far from integer
// overflow and reject periods that can only be typing mistakes.
const (
	MaxPeriodYears  = 1000
	MaxPeriodMonths = 12 * MaxPeriodYears
	MaxPeriodDays   = 366 * MaxPeriodYears
)

// Period is a calendar period: years, months and days, as in ISO 8601
// ("P7Y", "P1M15D"). It has no time part: retention is counted in calendar
// days on the wall clock of a location, not in hours.
//
// The zero Period means "at once". A Period is a plain value and safe to
// share.
//
// # Calendar rules
//
// [Period.AddTo] adds years and months first, then days:
//
//   - A day that does not exist in the target month is clamped to the last
//     day of that month: 31 January + P1M is 28 (or 29) February, and
//     29 February + P1Y is 28 February. This differs from [time.Time.AddDate],
//     which normalises 31 January + 1 month to 2 or 3 March. A clamped
//     period ends at the last instant (23:59:59.999999999) of that day, so
//     that 30 and 31 January, which both end on 28 February, end in order.
//   - Days are then added to the clamped date, running over month and year
//     ends as the calendar does: 31 January + P1M1D is 1 March (at its
//     last instant).
//   - Otherwise the wall-clock time of the start is kept. A result that falls into a
//     gap when clocks go forward (daylight saving) is moved to the first
//     instant after the gap; a result that falls into the hour repeated when
//     clocks go back is its later occurrence.
//
// Consequently a non-zero period always ends after its start, a longer
// period never ends earlier, and the end never decreases when the start's
// wall-clock time increases. Two starts
// inside the repeated hour of a clock change share wall-clock times, so
// their ends can be out of order by less than one hour; in UTC (the
// default location) the end is non-decreasing in the start.
type Period struct {
	Years  int
	Months int
	Days   int
}

// IsZero reports whether p is the zero period.
func (p Period) IsZero() bool { return p == Period{} }

// Validate reports whether p is non-negative and within the limits.
func (p Period) Validate() error {
	switch {
	case p.Years < 0 || p.Months < 0 || p.Days < 0:
		return fmt.Errorf("%w: negative", ErrInvalidPeriod)
	case p.Years > MaxPeriodYears || p.Months > MaxPeriodMonths || p.Days > MaxPeriodDays:
		return fmt.Errorf("%w: longer than %d years", ErrInvalidPeriod, MaxPeriodYears)
	}
	return nil
}

// String returns p in ISO 8601 form, such as "P7Y" or "P1M15D"; the zero
// period is "P0D". A period that does not validate is shown by its fields.
func (p Period) String() string {
	if p.Validate() != nil {
		return fmt.Sprintf("Period{%d,%d,%d}", p.Years, p.Months, p.Days)
	}
	if p.IsZero() {
		return "P0D"
	}
	b := make([]byte, 0, 16)
	b = append(b, 'P')
	if p.Years != 0 {
		b = append(strconv.AppendInt(b, int64(p.Years), 10), 'Y')
	}
	if p.Months != 0 {
		b = append(strconv.AppendInt(b, int64(p.Months), 10), 'M')
	}
	if p.Days != 0 {
		b = append(strconv.AppendInt(b, int64(p.Days), 10), 'D')
	}
	return string(b)
}

// ParsePeriod parses an ISO 8601 calendar period: "P" followed by any of
// nY, nM, nW and nD in that order, such as "P7Y", "P1M15D", "P2W" or "P0D".
// Weeks are stored as 7 days. A time part ("PT1H"), a sign, a fraction or a
// lower-case letter is an error wrapping [ErrInvalidPeriod].
func ParsePeriod(s string) (Period, error) {
	if len(s) > 64 {
		return Period{}, fmt.Errorf("%w: too long", ErrInvalidPeriod)
	}
	if len(s) < 3 || s[0] != 'P' {
		return Period{}, fmt.Errorf("%w: %s: want ISO 8601 like \"P7Y\" or \"P1M15D\"", ErrInvalidPeriod, quote.String(s))
	}
	if strings.IndexByte(s, 'T') >= 0 {
		return Period{}, fmt.Errorf("%w: %s: retention periods are in calendar years, months, weeks and days, not hours", ErrInvalidPeriod, quote.String(s))
	}
	var p Period
	const units = "YMWD"
	next := 0 // index into units of the next unit allowed
	rest := s[1:]
	for rest != "" {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 || i == len(rest) {
			return Period{}, fmt.Errorf("%w: %s: want a number followed by Y, M, W or D", ErrInvalidPeriod, quote.String(s))
		}
		if i > 7 {
			return Period{}, fmt.Errorf("%w: %s: number too large", ErrInvalidPeriod, quote.String(s))
		}
		n, _ := strconv.Atoi(rest[:i]) // only digits, at most 7 of them
		u := strings.IndexByte(units, rest[i])
		if u < 0 {
			return Period{}, fmt.Errorf("%w: %s: unknown unit %q", ErrInvalidPeriod, quote.String(s), rest[i])
		}
		if u < next {
			return Period{}, fmt.Errorf("%w: %s: units out of order or repeated", ErrInvalidPeriod, quote.String(s))
		}
		next = u + 1
		switch units[u] {
		case 'Y':
			p.Years = n
		case 'M':
			p.Months = n
		case 'W':
			p.Days = 7 * n
		case 'D':
			p.Days += n
		}
		rest = rest[i+1:]
	}
	if err := p.Validate(); err != nil {
		return Period{}, err
	}
	return p, nil
}

// MarshalText implements [encoding.TextMarshaler] with the form String
// returns.
func (p Period) MarshalText() ([]byte, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return []byte(p.String()), nil
}

// UnmarshalText implements [encoding.TextUnmarshaler] with [ParsePeriod].
func (p *Period) UnmarshalText(text []byte) error {
	v, err := ParsePeriod(string(text))
	if err != nil {
		return err
	}
	*p = v
	return nil
}

// AddTo returns t plus p, computed on the calendar and wall clock of loc
// (t's own location if loc is nil), following the calendar rules in the
// [Period] documentation. The result is in loc. AddTo does not validate p:
// a negative or over-long period gives a meaningless result.
func (p Period) AddTo(t time.Time, loc *time.Location) time.Time {
	if loc == nil {
		loc = t.Location()
	}
	t = t.In(loc)
	if p.IsZero() {
		return t
	}
	y, m, d := t.Date()
	hh, mm, ss := t.Clock()
	months := int(m) - 1 + p.Months + 12*p.Years
	y += months / 12
	m = time.Month(months%12 + 1)
	ns := t.Nanosecond()
	if dim := daysIn(y, m); d > dim {
		// Clamped: the period ends with the last day of the month, so it
		// ends at that day's last instant. Keeping the start's clock
		// instead would let a later start (31 January 08:00) end before
		// an earlier one (30 January 20:00) on the same 28 February.
		d, hh, mm, ss, ns = dim, 23, 59, 59, 999_999_999
	}
	return wallTime(y, m, d+p.Days, hh, mm, ss, ns, loc)
}

// wallTime is time.Date with a result in a daylight-saving gap moved to the
// first instant after the gap, so that the mapping from wall clock to
// instant never decreases.
func wallTime(y int, m time.Month, d, hh, mm, ss, ns int, loc *time.Location) time.Time {
	r := time.Date(y, m, d, hh, mm, ss, ns, loc)
	if loc == time.UTC {
		return r
	}
	// In a gap, time.Date reads the wall clock with the offset from before
	// the gap, which moves it forward by the gap's length. Compare wall
	// clocks (as UTC, which has no gaps) to detect that.
	want := time.Date(y, m, d, hh, mm, ss, ns, time.UTC)
	got := time.Date(r.Year(), r.Month(), r.Day(), 0, 0, 0, 0, time.UTC).Add(
		time.Duration(r.Hour())*time.Hour + time.Duration(r.Minute())*time.Minute +
			time.Duration(r.Second())*time.Second + time.Duration(r.Nanosecond()))
	shift := got.Sub(want)
	if shift <= 0 {
		return r
	}
	// The gap began after r-shift (still the old offset) and by r (the new
	// one); find the first second with the new offset.
	lo, hi := r.Add(-shift), r
	_, offNew := hi.Zone()
	for hi.Sub(lo) > time.Second {
		mid := lo.Add(hi.Sub(lo) / 2).Truncate(time.Second)
		if !mid.After(lo) {
			mid = lo.Add(time.Second).Truncate(time.Second)
		}
		if _, off := mid.Zone(); off == offNew {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi
}

// daysIn returns the number of days in month m of year y.
func daysIn(y int, m time.Month) int {
	switch m {
	case time.February:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}

// MonthDay is the last day of a fiscal year, such as 31 December. The zero
// MonthDay means 31 December. A MonthDay is a plain value and safe to share.
type MonthDay struct {
	Month time.Month
	Day   int
}

// Validate reports whether md is zero or a day that exists in a leap year.
func (md MonthDay) Validate() error {
	if md == (MonthDay{}) {
		return nil
	}
	if md.Month < time.January || md.Month > time.December || md.Day < 1 || md.Day > daysIn(2000, md.Month) {
		return fmt.Errorf("%w: fiscal year end %02d-%02d is not a day of the year", ErrInvalidPolicy, int(md.Month), md.Day)
	}
	return nil
}

func (md MonthDay) normalize() MonthDay {
	if md == (MonthDay{}) {
		return MonthDay{time.December, 31}
	}
	return md
}

// String returns md as "MM-DD", such as "12-31".
func (md MonthDay) String() string {
	md = md.normalize()
	return fmt.Sprintf("%02d-%02d", int(md.Month), md.Day)
}

// MarshalText implements [encoding.TextMarshaler] as "MM-DD".
func (md MonthDay) MarshalText() ([]byte, error) {
	if err := md.Validate(); err != nil {
		return nil, err
	}
	return []byte(md.String()), nil
}

// UnmarshalText implements [encoding.TextUnmarshaler], parsing "MM-DD".
func (md *MonthDay) UnmarshalText(text []byte) error {
	s := string(text)
	if len(s) != 5 || s[2] != '-' {
		return fmt.Errorf("%w: fiscal year end %s: want MM-DD", ErrInvalidPolicy, quote.String(s))
	}
	m, err1 := strconv.ParseUint(s[:2], 10, 8)
	d, err2 := strconv.ParseUint(s[3:], 10, 8)
	if err1 != nil || err2 != nil {
		return fmt.Errorf("%w: fiscal year end %s: want MM-DD", ErrInvalidPolicy, quote.String(s))
	}
	v := MonthDay{time.Month(m), int(d)}
	if v == (MonthDay{}) {
		return fmt.Errorf("%w: fiscal year end %s: want MM-DD", ErrInvalidPolicy, quote.String(s))
	}
	if err := v.Validate(); err != nil {
		return err
	}
	*md = v
	return nil
}

// FiscalYearEnd returns the instant the fiscal year containing t ends in
// loc: the first instant (midnight) of the day after md in that year. An
// event on the last day of a fiscal year belongs to that year. In a year
// without 29 February, a fiscal year ending on 29 February ends on the 28th.
func (md MonthDay) FiscalYearEnd(t time.Time, loc *time.Location) time.Time {
	if loc == nil {
		loc = t.Location()
	}
	md = md.normalize()
	t = t.In(loc)
	end := md.endIn(t.Year(), loc)
	if t.Before(end) {
		// The fiscal year ending in t's calendar year may have ended
		// already a year before (for example, a year ending 30 June and
		// an event in January belongs to the year ending this June).
		return end
	}
	return md.endIn(t.Year()+1, loc)
}

func (md MonthDay) endIn(y int, loc *time.Location) time.Time {
	d := md.Day
	if dim := daysIn(y, md.Month); d > dim {
		d = dim
	}
	return wallTime(y, md.Month, d+1, 0, 0, 0, 0, loc)
}
