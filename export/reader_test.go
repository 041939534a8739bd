package export_test

import (
	"archive/zip"
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/require"

	"github.com/personaldata/personaldata/export"
)

// pkg is a package as real readers see it.
type pkg struct {
	files    map[string][]byte
	order    []string
	manifest export.Manifest
}

// openPackage reads a package with archive/zip and checks it with other
// readers: every checksum (checksums.sha256 and the manifest), every data
// line against its JSON Schema (santhosh-tekuri/jsonschema), every CSV file
// with encoding/csv, UTF-8 everywhere.
func openPackage(t *testing.T, b []byte) *pkg {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	require.NoError(t, err)
	p := &pkg{files: map[string][]byte{}}
	for _, f := range zr.File {
		require.NotContains(t, p.files, f.Name, "duplicate entry")
		for _, c := range []byte(f.Name) {
			require.True(t, c > 0x20 && c < 0x7f && c != '\\', "path %q is not plain ASCII", f.Name)
		}
		require.False(t, strings.HasPrefix(f.Name, "/") || strings.Contains(f.Name, ".."), f.Name)
		rc, err := f.Open()
		require.NoError(t, err)
		data, err := io.ReadAll(rc)
		require.NoError(t, err, f.Name)
		require.NoError(t, rc.Close())
		require.True(t, utf8.Valid(data), "%s is not UTF-8", f.Name)
		p.files[f.Name] = data
		p.order = append(p.order, f.Name)
	}
	require.NoError(t, json.Unmarshal(p.files[export.ManifestPath], &p.manifest))

	// checksums.sha256, in the format sha256sum -c reads.
	sums := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(p.files[export.ChecksumsPath]))
	for sc.Scan() {
		sum, path, ok := strings.Cut(sc.Text(), "  ")
		require.True(t, ok, sc.Text())
		sums[path] = sum
	}
	for name, data := range p.files {
		if name == export.ChecksumsPath {
			continue
		}
		h := sha256.Sum256(data)
		require.Equal(t, hex.EncodeToString(h[:]), sums[name], "checksum of %s", name)
	}
	require.Len(t, sums, len(p.files)-1)

	// The manifest's file list.
	require.Len(t, p.manifest.Files, len(p.files)-2)
	for _, f := range p.manifest.Files {
		data, ok := p.files[f.Path]
		require.True(t, ok, f.Path)
		h := sha256.Sum256(data)
		require.Equal(t, hex.EncodeToString(h[:]), f.SHA256, f.Path)
		require.EqualValues(t, len(data), f.Bytes, f.Path)
		switch {
		case strings.HasSuffix(f.Path, ".ndjson"):
			require.NotNil(t, f.Records)
			require.EqualValues(t, *f.Records, bytes.Count(data, []byte("\n")), f.Path)
		case strings.HasSuffix(f.Path, ".csv"):
			r := csv.NewReader(bytes.NewReader(data))
			rows, err := r.ReadAll()
			require.NoError(t, err, f.Path)
			require.NotNil(t, f.Records)
			require.EqualValues(t, *f.Records, len(rows)-1, f.Path)
		}
	}

	// Every NDJSON line validates against its category's schema.
	for _, c := range p.manifest.Categories {
		comp := jsonschema.NewCompiler()
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(p.files[c.Schema]))
		require.NoError(t, err, c.Schema)
		url := "https://export.invalid/" + c.Schema
		require.NoError(t, comp.AddResource(url, doc))
		sch, err := comp.Compile(url)
		require.NoError(t, err, c.Schema)
		lines := bytes.Split(bytes.TrimSuffix(p.files["data/"+string(c.Name)+"/records.ndjson"], []byte("\n")), []byte("\n"))
		for i, line := range lines {
			if len(line) == 0 {
				continue
			}
			inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(line))
			require.NoError(t, err)
			require.NoError(t, sch.Validate(inst), "%s line %d", c.Name, i+1)
		}
	}
	return p
}

// csvRows returns the rows of a CSV file of p.
func (p *pkg) csvRows(t *testing.T, path string) [][]string {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(p.files[path])).ReadAll()
	require.NoError(t, err, path)
	return rows
}

// ndjson decodes the records of a category of p.
func (p *pkg) ndjson(t *testing.T, category string) []map[string]any {
	t.Helper()
	var out []map[string]any
	dec := json.NewDecoder(bytes.NewReader(p.files["data/"+category+"/records.ndjson"]))
	for dec.More() {
		var m map[string]any
		require.NoError(t, dec.Decode(&m))
		out = append(out, m)
	}
	return out
}
