package export

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"slices"
	"time"

	"github.com/personaldata/personaldata"
)

// maxMapKeys bounds the distinct keys of the map records of one category.
const maxMapKeys = 1024

// sink counts and optionally hashes what passes through to w.
type sink struct {
	w io.Writer
	h hash.Hash
	n int64
}

func (s *sink) Write(p []byte) (int, error) {
	if s.h != nil {
		s.h.Write(p)
	}
	n, err := s.w.Write(p)
	s.n += int64(n)
	return n, err
}

func (j *job) progress(c personaldata.Category, file string, records, bytes int64, done bool) {
	if f := j.e.opts.Progress; f != nil {
		f(Progress{Category: c, File: file, Records: records, Bytes: bytes, Done: done})
	}
}

// writeNDJSON writes r's records as NDJSON to w. keys, if not nil,
// collects the keys of map records.
func (j *job) writeNDJSON(ctx context.Context, r *registration, w io.Writer, file string, keys map[string]struct{}) (*plan, int64, error) {
	s := &sink{w: w}
	bw := bufio.NewWriterSize(s, 64<<10)
	var enc encoder
	var buf []byte
	var p *plan
	n, err := j.each(ctx, r, 0, func(n int64, it *item) error {
		p = it.p
		enc.erased = it.erased
		var err error
		if buf, err = enc.record(buf[:0], it.p, it.v); err != nil {
			return fmt.Errorf("category %s, record %d: %w", r.cat.Name, n, err)
		}
		buf = append(buf, '\n')
		if _, err := bw.Write(buf); err != nil {
			return err
		}
		if keys != nil && it.p.st == nil {
			if err := collectKeys(keys, it, r.cat.Name); err != nil {
				return err
			}
		}
		if n%1000 == 0 {
			j.progress(r.cat.Name, file, n, s.n+int64(bw.Buffered()), false)
		}
		return nil
	})
	if err != nil {
		return nil, n, err
	}
	if err := bw.Flush(); err != nil {
		return nil, n, err
	}
	j.progress(r.cat.Name, file, n, s.n, true)
	if p == nil {
		p = r.plan
	}
	return p, n, nil
}

func collectKeys(keys map[string]struct{}, it *item, c personaldata.Category) error {
	for mk := it.v.MapRange(); mk.Next(); {
		keys[mk.Key().String()] = struct{}{}
	}
	if len(keys) > maxMapKeys {
		return fmt.Errorf("%w: category %s: map records with more than %d distinct keys", ErrRecordType, c, maxMapKeys)
	}
	return nil
}

// verifier recomputes the NDJSON digest of the records of a later pass, so
// that a source yielding other records on a second read is caught.
type verifier struct {
	h   hash.Hash
	enc encoder
	buf []byte
}

func newVerifier() *verifier { return &verifier{h: sha256.New()} }

func (v *verifier) add(it *item) error {
	v.enc.erased = it.erased
	var err error
	if v.buf, err = v.enc.record(v.buf[:0], it.p, it.v); err != nil {
		return err
	}
	v.h.Write(append(v.buf, '\n'))
	return nil
}

// writeCSV writes table t (nil: the main table of map records with the
// given columns) of r's records to w and returns the rows written. With
// want set, it verifies the records against the NDJSON digest want.
func (j *job) writeCSV(ctx context.Context, r *registration, w io.Writer, file string, t *csvTable, mapCols []string, want []byte, wantN int64) (rows int64, err error) {
	s := &sink{w: w}
	bw := bufio.NewWriterSize(s, 64<<10)
	c := &csvWriter{t: t, w: bw}
	if t != nil {
		err = c.header(t.header())
	} else {
		err = c.header(append([]string{"_row"}, mapCols...))
	}
	if err != nil {
		return 0, err
	}
	var vf *verifier
	if want != nil {
		vf = newVerifier()
	}
	n, err := j.each(ctx, r, 0, func(n int64, it *item) error {
		if vf != nil {
			if err := vf.add(it); err != nil {
				return err
			}
		}
		var err error
		if t == nil || it.p.st == nil {
			if t != nil || it.p.st != nil {
				return fmt.Errorf("%w: category %s changed between struct and map records", ErrSourceChanged, r.cat.Name)
			}
			err = c.mapRow(n, it, mapCols)
		} else {
			err = c.write(n, it)
		}
		if err != nil {
			return fmt.Errorf("category %s, record %d: %w", r.cat.Name, n, err)
		}
		if n%1000 == 0 {
			j.progress(r.cat.Name, file, n, s.n+int64(bw.Buffered()), false)
		}
		return nil
	})
	if err != nil {
		return n, err
	}
	if vf != nil && (n != wantN || !bytes.Equal(vf.h.Sum(nil), want)) {
		return n, fmt.Errorf("%w: category %s", ErrSourceChanged, r.cat.Name)
	}
	if err := bw.Flush(); err != nil {
		return n, err
	}
	j.progress(r.cat.Name, file, n, s.n, true)
	return c.rows, nil
}

// WriteNDJSON writes the records of one category of subject to w, one JSON
// object per line, in the order the source yields them. On error, what was
// written is incomplete and must be discarded.
func (e *Exporter) WriteNDJSON(ctx context.Context, w io.Writer, subject personaldata.SubjectID, category personaldata.Category) error {
	j, r, err := e.single(subject, category)
	if err != nil {
		return err
	}
	_, _, err = j.writeNDJSON(ctx, r, w, "", nil)
	return err
}

// WriteCSV writes one CSV table of one category of subject to w: the main
// table when table is "", else the child table of the list column named
// table (see the package documentation for the flattening rules). Map
// records are read twice, first for their columns. On error, what was
// written is incomplete and must be discarded.
func (e *Exporter) WriteCSV(ctx context.Context, w io.Writer, subject personaldata.SubjectID, category personaldata.Category, table string) error {
	j, r, err := e.single(subject, category)
	if err != nil {
		return err
	}
	p := r.plan
	if p == nil { // an untyped source: its first record tells
		if _, err := j.each(ctx, r, 1, func(_ int64, it *item) error { p = it.p; return nil }); err != nil {
			return err
		}
	}
	if p != nil && p.st != nil {
		for _, t := range tables(p.st) {
			if t.name == table {
				_, err := j.writeCSV(ctx, r, w, "", t, nil, nil, 0)
				return err
			}
		}
		return fmt.Errorf("%w: category %s has no list column %s", ErrInvalidRequest, category, quoteCategory(personaldata.Category(table)))
	}
	if table != "" {
		return fmt.Errorf("%w: category %s has no child tables", ErrInvalidRequest, category)
	}
	keys := map[string]struct{}{}
	if _, err := j.each(ctx, r, 0, func(_ int64, it *item) error { return collectKeys(keys, it, category) }); err != nil {
		return err
	}
	_, err = j.writeCSV(ctx, r, w, "", nil, sortedKeys(keys), nil, 0)
	return err
}

func sortedKeys(m map[string]struct{}) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func (e *Exporter) single(subject personaldata.SubjectID, category personaldata.Category) (*job, *registration, error) {
	r, err := e.lookup(category)
	if err != nil {
		return nil, nil, err
	}
	j, err := e.start(Request{Subject: subject, Categories: []personaldata.Category{category}})
	if err != nil {
		return nil, nil, err
	}
	return j, r, nil
}

// WriteJSON writes one JSON document with the export's metadata and, per
// category, its Art. 15 information and its records:
//
//	{"format":"personaldata-export/1","id":...,"kind":"access","generated":...,
//	 "controller":{...},"subject_ref":...,"omissions":[...],
//	 "categories":[{"name":...,"title":...,...,"records":[{...},...]}]}
//
// Unlike a package it carries no file list. It is written in one pass in
// constant memory; each category's "records" is the array of its records. On error, what was written is incomplete and must be
// discarded.
func (e *Exporter) WriteJSON(ctx context.Context, w io.Writer, req Request) error {
	j, err := e.start(req)
	if err != nil {
		return err
	}
	s := &sink{w: w}
	bw := bufio.NewWriterSize(s, 64<<10)
	head := struct {
		Format     string     `json:"format"`
		ID         string     `json:"id"`
		Kind       Kind       `json:"kind"`
		Generated  time.Time  `json:"generated"`
		Controller Controller `json:"controller"`
		SubjectRef string     `json:"subject_ref"`
		Omissions  []Omission `json:"omissions"`
		Notes      Notes      `json:"notes"`
	}{FormatVersion, j.id.String(), j.req.Kind, j.now, e.ctl, e.SubjectRef(j.req.Subject), nonNil(j.omit), defaultNotes}
	hb, err := json.Marshal(head)
	if err != nil {
		return err
	}
	bw.Write(hb[:len(hb)-1])
	bw.WriteString(`,"categories":[`)
	var enc encoder
	var buf []byte
	for ci, r := range j.include {
		if ci > 0 {
			bw.WriteByte(',')
		}
		mb, err := json.Marshal(j.categoryInfo(r, nil, ""))
		if err != nil {
			return err
		}
		bw.Write(mb[:len(mb)-1])
		bw.WriteString(`,"records":[`)
		_, err = j.each(ctx, r, 0, func(n int64, it *item) error {
			enc.erased = it.erased
			var err error
			if buf, err = enc.record(buf[:0], it.p, it.v); err != nil {
				return fmt.Errorf("category %s, record %d: %w", r.cat.Name, n, err)
			}
			if n > 1 {
				bw.WriteByte(',')
			}
			_, err = bw.Write(buf)
			if n%1000 == 0 {
				j.progress(r.cat.Name, "", n, s.n+int64(bw.Buffered()), false)
			}
			return err
		})
		if err != nil {
			return err
		}
		bw.WriteString("]}")
	}
	bw.WriteString("]}\n")
	return bw.Flush()
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
