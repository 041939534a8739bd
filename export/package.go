package export

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"

	"github.com/personaldata/personaldata"
)

// Paths and media types of a package.
const (
	ManifestPath  = "manifest.json"
	ChecksumsPath = "checksums.sha256"
	IndexPath     = "index.html"
	ReadmePath    = "README.txt"

	mediaNDJSON = "application/x-ndjson"
	mediaCSV    = "text/csv; charset=utf-8; header=present"
	mediaSchema = "application/schema+json"
	mediaHTML   = "text/html; charset=utf-8"
	mediaText   = "text/plain; charset=utf-8"
	mediaJSON   = "application/json"
)

// pkgWriter writes the entries of a zip package, hashing each.
type pkgWriter struct {
	j     *job
	zw    *zip.Writer
	files []File
}

// file writes one entry. fn writes its content and returns its record
// count (nil for files that hold no records).
func (pw *pkgWriter) file(path, media string, c personaldata.Category, fn func(w io.Writer) (*int64, error)) (File, error) {
	w, err := pw.zw.CreateHeader(&zip.FileHeader{Name: path, Method: zip.Deflate, Modified: pw.j.now.UTC()})
	if err != nil {
		return File{}, err
	}
	s := &sink{w: w, h: sha256.New()}
	n, err := fn(s)
	if err != nil {
		return File{}, err
	}
	f := File{Path: path, MediaType: media, Category: c, Records: n, Bytes: s.n, SHA256: hex.EncodeToString(s.h.Sum(nil))}
	pw.files = append(pw.files, f)
	return f, nil
}

func (pw *pkgWriter) bytesFile(path, media string, b []byte) error {
	_, err := pw.file(path, media, "", func(w io.Writer) (*int64, error) {
		_, err := w.Write(b)
		return nil, err
	})
	return err
}

// WritePackage writes the zip package of req to w and returns its manifest.
// The package is streamed: each category's source is read once per view
// (NDJSON, CSV, each child table, index.html) and nothing grows with the
// number of records but the output.
//
// Layout:
//
//	index.html                          the page a person opens first
//	README.txt                          what the files are and how to check them
//	data/<category>/records.ndjson      the records, exact, one JSON object per line
//	data/<category>/records.csv         the records as a spreadsheet table
//	data/<category>/records.<list>.csv  one child table per list field
//	schema/<category>.schema.json       JSON Schema (2020-12) of one NDJSON line
//	manifest.json                       Art. 15 information and every file's size and SHA-256
//	checksums.sha256                    for sha256sum -c
//
// manifest.json and checksums.sha256 are written last and the zip's central
// directory only after them: if the export fails (a source errors or panics,
// ctx is cancelled, a record cannot be written), WritePackage returns the
// error at once, leaving w with an incomplete zip that archive readers
// reject. The bytes of a failed export must be discarded.
func (e *Exporter) WritePackage(ctx context.Context, w io.Writer, req Request) (*Manifest, error) {
	j, err := e.start(req)
	if err != nil {
		return nil, err
	}
	bw := bufio.NewWriterSize(w, 32<<10)
	pw := &pkgWriter{j: j, zw: zip.NewWriter(bw)}
	m := &Manifest{Format: FormatVersion, ID: j.id.String(), Kind: j.req.Kind, Generated: j.now.UTC(), Controller: e.ctl,
		SubjectRef: e.SubjectRef(j.req.Subject), Omissions: nonNil(j.omit), Categories: []CategoryInfo{}, Rights: rights, Notes: defaultNotes}
	plans := make([]*plan, len(j.include))
	for i, r := range j.include {
		p, info, err := j.packageCategory(ctx, pw, r)
		if err != nil {
			return nil, err
		}
		plans[i] = p
		m.Categories = append(m.Categories, info)
	}
	m.Files = pw.files // for the page; the final list is set below
	page, err := j.page(ctx, m, plans)
	if err != nil {
		return nil, err
	}
	if err := pw.bytesFile(IndexPath, mediaHTML, page); err != nil {
		return nil, err
	}
	if err := pw.bytesFile(ReadmePath, mediaText, readme(m)); err != nil {
		return nil, err
	}
	m.Files = append([]File{}, pw.files...)
	mb, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := pw.bytesFile(ManifestPath, mediaJSON, append(mb, '\n')); err != nil {
		return nil, err
	}
	var sums bytes.Buffer
	for _, f := range pw.files {
		fmt.Fprintf(&sums, "%s  %s\n", f.SHA256, f.Path)
	}
	cw, err := pw.zw.CreateHeader(&zip.FileHeader{Name: ChecksumsPath, Method: zip.Deflate, Modified: j.now.UTC()})
	if err != nil {
		return nil, err
	}
	if _, err := cw.Write(sums.Bytes()); err != nil {
		return nil, err
	}
	if err := pw.zw.Close(); err != nil {
		return nil, err
	}
	if err := bw.Flush(); err != nil {
		return nil, err
	}
	return m, nil
}

// packageCategory writes the data files and the schema of one category.
func (j *job) packageCategory(ctx context.Context, pw *pkgWriter, r *registration) (*plan, CategoryInfo, error) {
	dir := "data/" + string(r.cat.Name) + "/"
	var p *plan
	var keys map[string]struct{}
	if r.plan == nil || r.plan.st == nil {
		keys = map[string]struct{}{}
	}
	nd, err := pw.file(dir+"records.ndjson", mediaNDJSON, r.cat.Name, func(w io.Writer) (*int64, error) {
		var n int64
		var err error
		p, n, err = j.writeNDJSON(ctx, r, w, dir+"records.ndjson", keys)
		return &n, err
	})
	if err != nil {
		return nil, CategoryInfo{}, err
	}
	want, _ := hex.DecodeString(nd.SHA256)
	count := *nd.Records
	var tabs []*csvTable
	if p != nil && p.st != nil {
		tabs = tables(p.st)
	} else {
		tabs = []*csvTable{nil}
	}
	if keys != nil {
		if j.mapKeys == nil {
			j.mapKeys = map[personaldata.Category][]string{}
		}
		j.mapKeys[r.cat.Name] = sortedKeys(keys)
	}
	for _, t := range tabs {
		path := dir + "records.csv"
		if t != nil && t.name != "" {
			path = dir + "records." + EscapePathSegment(t.name) + ".csv"
		}
		_, err := pw.file(path, mediaCSV, r.cat.Name, func(w io.Writer) (*int64, error) {
			n, err := j.writeCSV(ctx, r, w, path, t, sortedKeys(keys), want, count)
			return &n, err
		})
		if err != nil {
			return nil, CategoryInfo{}, err
		}
	}
	schemaPath := "schema/" + string(r.cat.Name) + ".schema.json"
	sb, err := schemaFor(p, r.cat)
	if err != nil {
		return nil, CategoryInfo{}, err
	}
	if err := pw.bytesFile(schemaPath, mediaSchema, sb); err != nil {
		return nil, CategoryInfo{}, err
	}
	pw.files[len(pw.files)-1].Category = r.cat.Name
	return p, j.categoryInfo(r, &count, schemaPath), nil
}
