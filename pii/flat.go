package pii

import (
	"crypto/cipher"
	"crypto/rand"
	"unsafe"

	"github.com/personaldata/personaldata"
	"github.com/personaldata/personaldata/pii/internal/envelope"
)

// maxFlat bounds the fields protectFlat seals, so that their keys and
// nonces fit in arrays on the stack.
const maxFlat = 8

// protectFlat protects the struct at base, of a flat plan sp with a string
// subject field, when that needs nothing but cached keys: a valid subject,
// no field that looks protected already, no blind index. It reports false
// when it changed nothing and the walk must do the work (and report what
// fails).
//
// The strings of the struct share one allocation, used first as scratch:
// the binary envelopes are sealed into its end, packed, the associated
// data built at its start, then each envelope is written as text in place,
// front to back, each text ending no later than its envelope.
func (p *Protector) protectFlat(base unsafe.Pointer, sp *structPlan) bool {
	if !sp.flatSubj || len(sp.fields) > maxFlat {
		return false
	}
	subject := *(*string)(unsafe.Add(base, sp.subjOff))
	if personaldata.SubjectID(subject).Validate() != nil {
		return false
	}
	alg, ns := p.alg, p.alg.NonceSize()
	var aeads [maxFlat]cipher.AEAD
	var nonces [maxFlat * 24]byte
	seals, size, bins, tails := 0, 0, 0, 0
	var scope personaldata.Scope
	now := p.elapsed()
	for i := range sp.fields {
		f := &sp.fields[i]
		s := *(*string)(unsafe.Add(base, f.off))
		if s == "" {
			continue
		}
		if f.blind != nil || envelope.LooksText(s) {
			return false
		}
		if seals > 0 && f.scope == scope {
			aeads[seals] = aeads[seals-1]
		} else {
			e := p.cache.get(KeyRef{Subject: personaldata.SubjectID(subject), Scope: f.scope}, now)
			if e == nil {
				return false
			}
			a, err := e.aead(alg)
			if err != nil {
				return false
			}
			aeads[seals], scope = a, f.scope
		}
		tails = max(tails, len(f.scope)+len(f.category))
		n := envelope.SealedLen(alg, len(s))
		bins += n
		size += envelope.TextLen(n)
		seals++
	}
	if seals == 0 {
		return true
	}
	// The associated data is at most adLen long and must fit before the
	// first envelope.
	adLen := envelope.HeaderSize + 3 + len(subject) + tails
	if size-bins < adLen {
		return false
	}
	rnd := nonces[:ns*seals]
	if _, err := rand.Read(rnd); err != nil {
		return false
	}
	block := make([]byte, size)
	ad := block[:0:adLen]
	off, k := size-bins, 0
	for i := range sp.fields {
		f := &sp.fields[i]
		s := *(*string)(unsafe.Add(base, f.off))
		if s == "" {
			continue
		}
		n := envelope.SealedLen(alg, len(s))
		dst := envelope.AppendHeader(block[off:off:off+n], alg)
		dst = append(dst, rnd[k*ns:(k+1)*ns]...)
		ad = envelope.AppendAD(ad[:0], dst[:envelope.HeaderSize], subject, string(f.scope), string(f.category))
		aeads[k].Seal(dst, dst[envelope.HeaderSize:], bytesOf(s), ad)
		off += n
		k++
	}
	off, at := size-bins, 0
	for i := range sp.fields {
		f := &sp.fields[i]
		ps := (*string)(unsafe.Add(base, f.off))
		if *ps == "" {
			continue
		}
		n := envelope.SealedLen(alg, len(*ps))
		t := envelope.TextLen(n)
		text := envelope.AppendText(block[at:at:at+t], block[off:off+n])
		*ps = unsafe.String(unsafe.SliceData(text), len(text))
		off += n
		at += t
	}
	return true
}
