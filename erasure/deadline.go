package erasure

import "time"

// AddMonths returns t plus n calendar months on the calendar of loc (t's
// own location if loc is nil), keeping the wall-clock time. A day that does
// not exist in the target month is clamped to its last day: 31 January plus
// one month is 28 February, or 29 in a leap year. This is the reading of
// "one month" in GDPR Art. 12(3) (and of Regulation 1182/71 art. 3(2)(c)),
// unlike time.Time.AddDate, which would give 2 or 3 March.
func AddMonths(t time.Time, n int, loc *time.Location) time.Time {
	if loc != nil {
		t = t.In(loc)
	}
	y, m, d := t.Date()
	hh, mm, ss := t.Clock()
	first := time.Date(y, m+time.Month(n), 1, 0, 0, 0, 0, t.Location())
	last := daysIn(first.Year(), first.Month())
	if d > last {
		d = last
	}
	return time.Date(first.Year(), first.Month(), d, hh, mm, ss, t.Nanosecond(), t.Location())
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// deadline computes r's deadline: one calendar month after receipt, plus
// the extension if any; before an extension, the host's own promise of
// promiseDays after identity verification when that is earlier.
func deadline(r *Request, promiseDays int, loc *time.Location) time.Time {
	legal := AddMonths(r.ReceivedAt, 1+r.ExtendedMonths, loc)
	if r.ExtendedMonths == 0 && promiseDays > 0 && !r.VerifiedAt.IsZero() {
		v := r.VerifiedAt
		if loc != nil {
			v = v.In(loc)
		}
		if p := v.AddDate(0, 0, promiseDays); p.Before(legal) {
			return p
		}
	}
	return legal
}
