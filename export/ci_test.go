package export_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/personaldata/personaldata/export"
)

// TestWritePackageFile writes a package to $PERSONALDATA_EXPORT_DIR/package.zip
// for tools outside Go to check: .ci/run runs unzip -t and sha256sum -c on
// it. Without the variable it is skipped.
func TestWritePackageFile(t *testing.T) {
	dir := os.Getenv("PERSONALDATA_EXPORT_DIR")
	if dir == "" {
		t.Skip("PERSONALDATA_EXPORT_DIR is not set")
	}
	f := newFixture(t, true)
	b, _ := writePackage(t, f.exporter(t, nil), export.Request{Subject: subject})
	openPackage(t, b)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "package.zip"), b, 0o644))
}
