package consent

import (
	"slices"

	"github.com/oklog/ulid/v2"
)

// entry is an event in the decision index, 48 bytes: a decision reads a
// few of them, and each cache line they share is one trip less to memory.
type entry struct {
	eff     int64
	expires int64 // 0: never
	id      ulid.ULID
	// notice is the version shown: the registry's, or for a version this
	// ledger does not know, one of its own with EffectiveAt the event's.
	notice *Notice
	typ    EventType
	method Method
	actor  Actor
	minor  bool
}

// noticeEff returns the effective time of the notice the event was shown
// under, or its own.
func (e *entry) noticeEff() int64 {
	if e.notice == nil {
		return e.eff
	}
	return e.notice.EffectiveAt.UnixNano()
}

type timeline struct {
	idx     int // purposeInfo.idx, -1 for a purpose not registered when loaded
	purpose PurposeID
	entries []entry // sorted by (eff, seq)
}

// subjectState is the immutable materialised state of one subject; writers
// replace it (copy on write).
type subjectState struct {
	// The fields a decision reads are copied into the index map's slot
	// (see hot), and the entries of a small subject follow the state in
	// the same allocation (see compact), so that a decision touches few
	// cache lines: on a large ledger each one is a trip to main memory.
	all []entry // every entry, the backing of subj and the timelines
	// spans[i] locates, in all, the timeline of the purpose registered
	// with index i: offset and length. Valid when spansOK; purposes
	// registered later (or larger subjects) are found by scanning purposes.
	spans     [posLen][2]uint8
	spansOK   bool
	hasSubj   bool // len(subj) > 0
	restricts bool // a purpose's timeline holds a restriction or its lifting
	isBroken  bool // broken != nil
	erased    bool
	unreg     bool // some timeline has idx -1

	subj   []entry     // restrictions without purpose and erasure
	broken *ChainError // the chain as stored is broken here
	// refused is set on a verified state whose stored chain was since
	// found broken: decisions answer from the state, writes are refused
	// until a Sync verifies the chain again.
	refused  *ChainError
	anchor   *head // for a broken subject, the head a repaired chain must pass through
	seq      uint64
	head     [32]byte
	purposes []timeline
}

// brokenState is the state of a subject whose stored chain is broken.
func brokenState(cerr *ChainError, anchor *head) *subjectState {
	return &subjectState{broken: cerr, isBroken: true, anchor: anchor}
}

// posLen bounds the registry indexes subjectState.spans covers.
const posLen = 12

// hot is what a decision reads of a subject, 64 bytes kept in the slot of
// the index map itself: a decision finds it where it found the key, and
// chases no pointer before the entries. full is the whole state.
type hot struct {
	all       []entry
	spans     [posLen][2]uint8
	full      *subjectState
	spansOK   bool
	hasSubj   bool
	isBroken  bool
	restricts bool // some timeline of a purpose holds a restriction or its lifting
}

func (st *subjectState) hot() hot {
	return hot{all: st.all, spans: st.spans, full: st, spansOK: st.spansOK, hasSubj: st.hasSubj,
		isBroken: st.isBroken, restricts: st.restricts}
}

func insertEntry(list []entry, e entry) []entry {
	i := len(list)
	for i > 0 && list[i-1].eff > e.eff {
		i--
	}
	out := make([]entry, 0, len(list)+1)
	out = append(out, list[:i]...)
	out = append(out, e)
	return append(out, list[i:]...)
}

// with returns a copy of st with evs applied.
func (st *subjectState) with(evs []Event, reg *registry) *subjectState {
	n := &subjectState{seq: st.seq, head: st.head, erased: st.erased, unreg: st.unreg, subj: st.subj, purposes: slices.Clone(st.purposes)}
	for i := range evs {
		e := &evs[i]
		en := entry{
			eff: e.EffectiveAt.UnixNano(), id: e.ID,
			typ: e.Type, method: e.Method, actor: e.Actor, minor: e.Minor,
		}
		if e.NoticeVersion != "" {
			en.notice = reg.byVer[e.NoticeVersion]
			if en.notice == nil {
				en.notice = &Notice{Version: e.NoticeVersion, EffectiveAt: e.EffectiveAt}
			}
		}
		if !e.ExpiresAt.IsZero() {
			en.expires = e.ExpiresAt.UnixNano()
		}
		n.seq, n.head = e.Seq, e.Hash
		if e.Type == EventErase {
			n.erased = true
		}
		if e.Purpose == "" {
			n.subj = insertEntry(n.subj, en)
			continue
		}
		found := false
		for j := range n.purposes {
			if n.purposes[j].purpose == e.Purpose {
				n.purposes[j].entries = insertEntry(n.purposes[j].entries, en)
				found = true
				break
			}
		}
		if !found {
			idx := -1
			if pi := reg.purposes[e.Purpose]; pi != nil {
				idx = pi.idx
			} else {
				n.unreg = true
			}
			n.purposes = append(n.purposes, timeline{idx: idx, purpose: e.Purpose, entries: []entry{en}})
		}
	}
	return n.compact()
}

// compact moves all entries into one backing array, so that a decision
// touches few cache lines, and returns the state to publish: for a small
// subject, a copy that holds the state and its entries in one allocation.
// Each timeline is capped at its length, so a later insert copies instead of
// writing into a neighbour.
func (st *subjectState) compact() *subjectState {
	total := len(st.subj)
	for _, tl := range st.purposes {
		total += len(tl.entries)
	}
	out := st
	var backing []entry
	switch {
	case total <= 8:
		x := &struct {
			s subjectState
			e [8]entry
		}{s: *st}
		out, backing = &x.s, x.e[:0]
	case total <= 24:
		x := &struct {
			s subjectState
			e [24]entry
		}{s: *st}
		out, backing = &x.s, x.e[:0]
	default:
		backing = make([]entry, 0, total)
	}
	grab := func(list []entry) []entry {
		start := len(backing)
		backing = append(backing, list...)
		return backing[start:len(backing):len(backing)]
	}
	out.purposes = slices.Clone(out.purposes)
	out.spans, out.spansOK = [posLen][2]uint8{}, !out.unreg
	for i := range out.purposes {
		start := len(backing)
		out.purposes[i].entries = grab(out.purposes[i].entries)
		idx, n := out.purposes[i].idx, len(out.purposes[i].entries)
		switch {
		case idx >= posLen:
		case idx < 0 || start+n > 255:
			out.spansOK = false
		default:
			out.spans[idx] = [2]uint8{uint8(start), uint8(n)}
		}
	}
	if len(out.subj) > 0 {
		out.subj = grab(out.subj)
	}
	out.hasSubj = len(out.subj) > 0
	out.restricts = false
	for _, tl := range out.purposes {
		for _, e := range tl.entries {
			if e.typ == EventRestrict || e.typ == EventLiftRestriction {
				out.restricts = true
			}
		}
	}
	out.all = backing
	return out
}

// upto returns the number of entries with eff <= t (binary search).
func upto(list []entry, t int64) int {
	lo, hi := 0, len(list)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if list[m].eff <= t {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}
