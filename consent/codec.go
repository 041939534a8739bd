package consent

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"time"

	"github.com/personaldata/personaldata"
)

// Stored encoding of an event, version 1. All integers big-endian or
// unsigned varints, every variable field length-prefixed:
//
//	version   1 byte, 0x01
//	id        16 bytes, the ULID
//	subject   uvarint length + bytes
//	seq       uvarint
//	type      1 byte
//	purpose   uvarint length + bytes
//	effective time
//	recorded  time
//	notice    uvarint length + bytes
//	method    1 byte
//	actor     1 byte
//	flags     1 byte: bit 0 minor; other bits zero
//	evidence  1 byte presence (0 or 1) + 32 bytes if present
//	expires   time
//	sealed    uvarint length + bytes
//	prev      32 bytes
//
// A time is one byte 0 for the zero time, or 1 followed by 8 bytes of
// nanoseconds since 1970 UTC. The encoding is canonical: decoding and
// encoding again yields the same bytes, anything else is rejected.
//
// The chain hash of an event is SHA-256 over "personaldata/consent/v1\x00"
// followed by the encoding, or HMAC-SHA256 keyed with Options.ChainKey.
const codecVersion = 1

const maxSealedLen = 64 << 10

var errDecode = errors.New("malformed event encoding")

const hashDomain = "personaldata/consent/v1\x00"

type hasher struct{ key []byte }

func (h hasher) sum(data []byte) [32]byte {
	var hh hash.Hash
	if h.key != nil {
		hh = hmac.New(sha256.New, h.key)
	} else {
		hh = sha256.New()
		hh.Write([]byte(hashDomain))
	}
	hh.Write(data)
	var out [32]byte
	hh.Sum(out[:0])
	return out
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, 0)
	}
	b = append(b, 1)
	return binary.BigEndian.AppendUint64(b, uint64(t.UnixNano()))
}

func encodeEvent(e *Event) []byte {
	b := make([]byte, 0, 160+len(e.Subject)+len(e.Sealed))
	b = append(b, codecVersion)
	b = append(b, e.ID[:]...)
	b = appendString(b, string(e.Subject))
	b = binary.AppendUvarint(b, e.Seq)
	b = append(b, byte(e.Type))
	b = appendString(b, string(e.Purpose))
	b = appendTime(b, e.EffectiveAt)
	b = appendTime(b, e.RecordedAt)
	b = appendString(b, e.NoticeVersion)
	b = append(b, byte(e.Method), byte(e.Actor))
	var flags byte
	if e.Minor {
		flags |= 1
	}
	b = append(b, flags)
	if e.EvidenceHash == ([32]byte{}) {
		b = append(b, 0)
	} else {
		b = append(b, 1)
		b = append(b, e.EvidenceHash[:]...)
	}
	b = appendTime(b, e.ExpiresAt)
	b = binary.AppendUvarint(b, uint64(len(e.Sealed)))
	b = append(b, e.Sealed...)
	b = append(b, e.PrevHash[:]...)
	return b
}

type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s", errDecode, what)
	}
}

func (r *reader) bytes(n int, what string) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b) {
		r.fail(what + " truncated")
		return nil
	}
	out := r.b[:n:n]
	r.b = r.b[n:]
	return out
}

func (r *reader) byte1(what string) byte {
	b := r.bytes(1, what)
	if b == nil {
		return 0
	}
	return b[0]
}

func (r *reader) uvarint(what string) uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail(what + " bad varint")
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) str(max int, what string) string {
	n := r.uvarint(what)
	if n > uint64(max) {
		r.fail(what + " too long")
		return ""
	}
	return string(r.bytes(int(n), what))
}

func (r *reader) time(what string) time.Time {
	switch r.byte1(what) {
	case 0:
		return time.Time{}
	case 1:
		b := r.bytes(8, what)
		if b == nil {
			return time.Time{}
		}
		t := time.Unix(0, int64(binary.BigEndian.Uint64(b))).UTC()
		if !validTime(t) {
			r.fail(what + " out of range")
		}
		return t
	default:
		r.fail(what + " bad presence byte")
		return time.Time{}
	}
}

// decodeEvent parses the stored encoding. It never panics; any deviation
// from the canonical encoding is an error.
func decodeEvent(data []byte) (Event, error) {
	var e Event
	r := &reader{b: data}
	if v := r.byte1("version"); r.err == nil && v != codecVersion {
		return e, fmt.Errorf("%w: unknown version %d", errDecode, v)
	}
	copy(e.ID[:], r.bytes(16, "id"))
	e.Subject = personaldata.SubjectID(r.str(personaldata.MaxSubjectIDLen, "subject"))
	e.Seq = r.uvarint("seq")
	e.Type = EventType(r.byte1("type"))
	e.Purpose = PurposeID(r.str(64, "purpose"))
	e.EffectiveAt = r.time("effective time")
	e.RecordedAt = r.time("recorded time")
	e.NoticeVersion = r.str(64, "notice version")
	e.Method = Method(r.byte1("method"))
	e.Actor = Actor(r.byte1("actor"))
	flags := r.byte1("flags")
	e.Minor = flags&1 != 0
	switch r.byte1("evidence") {
	case 0:
	case 1:
		copy(e.EvidenceHash[:], r.bytes(32, "evidence"))
	default:
		r.fail("evidence bad presence byte")
	}
	e.ExpiresAt = r.time("expiry")
	if n := r.uvarint("sealed"); n > maxSealedLen {
		r.fail("sealed too long")
	} else if n > 0 {
		e.Sealed = bytes.Clone(r.bytes(int(n), "sealed"))
	}
	copy(e.PrevHash[:], r.bytes(32, "previous hash"))
	if r.err != nil {
		return Event{}, r.err
	}
	if len(r.b) != 0 {
		return Event{}, fmt.Errorf("%w: %d trailing bytes", errDecode, len(r.b))
	}
	if flags&^1 != 0 {
		return Event{}, fmt.Errorf("%w: unknown flags", errDecode)
	}
	if err := e.check(); err != nil {
		return Event{}, fmt.Errorf("%w: %w", errDecode, err)
	}
	if !bytes.Equal(encodeEvent(&e), data) {
		return Event{}, fmt.Errorf("%w: not canonical", errDecode)
	}
	return e, nil
}

// check validates the fields of a decoded event that need no registry.
func (e *Event) check() error {
	if err := e.Subject.Validate(); err != nil {
		return err
	}
	if e.Seq == 0 {
		return errors.New("sequence number 0")
	}
	if !e.Type.valid() || !e.Method.valid() || !e.Actor.valid() {
		return errors.New("unknown type, method or actor")
	}
	if e.EffectiveAt.IsZero() || e.RecordedAt.IsZero() {
		return errors.New("missing time")
	}
	if e.Purpose != "" {
		if err := personaldata.Category(e.Purpose).Validate(); err != nil {
			return err
		}
	}
	return nil
}

func (e *Event) record() StoredEvent {
	return StoredEvent{
		Subject: e.Subject, Seq: e.Seq, ID: e.ID.String(), Purpose: e.Purpose,
		Data: encodeEvent(e), Hash: bytes.Clone(e.Hash[:]),
	}
}

// Personal data plaintext before sealing: version byte 1, then contact and
// evidence, each uvarint length + bytes.
func encodePersonal(p *PersonalData) []byte {
	b := []byte{1}
	b = appendString(b, p.Contact)
	return appendString(b, p.Evidence)
}

func decodePersonal(b []byte) (PersonalData, error) {
	r := &reader{b: b}
	if v := r.byte1("version"); r.err == nil && v != 1 {
		return PersonalData{}, fmt.Errorf("%w: personal data version %d", errDecode, v)
	}
	p := PersonalData{Contact: r.str(MaxContactLen, "contact"), Evidence: r.str(MaxEvidenceLen, "evidence")}
	if r.err == nil && len(r.b) != 0 {
		r.fail("trailing bytes")
	}
	if r.err != nil {
		return PersonalData{}, r.err
	}
	return p, nil
}
