// Package export writes a person's copy of their data: an access package
// (GDPR Art. 15) or a portability package (Art. 20), readable by the person
// and by a program, streamed in constant memory.
//
// The host registers each category of personal data it holds with
// [Exporter.Register]: its metadata ([Category]: title, description,
// [Origin], whether it is portable, its purposes with legal bases, its
// recipients by name) and a [Source] that yields one subject's records as an
// iterator. The retention statement of each category comes from a
// retention.Evaluator ([Options.Retention]), the consent history, current
// decisions and receipts from a consent.Ledger ([Options.Consent]).
// Records with encrypted fields are revealed with [Options.Revealer] (a
// *pii.Protector).
//
//	e, _ := export.New(export.Controller{Name: "Example B.V.", Contact: "privacy@example.nl"},
//		&export.Options{Revealer: protector, Retention: evaluator, Consent: ledger})
//	e.Register(export.Category{Name: "account", Title: "Account", Origin: export.Provided,
//		Portable: true, Purposes: ...}, export.SourceFunc(accounts))
//	manifest, err := e.WritePackage(ctx, w, export.Request{Subject: "customer-1017"})
//
// # Formats
//
// [Exporter.WritePackage] writes a zip: index.html (one self-contained
// page: no script, no external resource, every value escaped by
// html/template, readable on a phone), README.txt, the records of each
// category as NDJSON and CSV under data/<category>/, a JSON Schema
// (2020-12) per record type under schema/, manifest.json ([Manifest]: the
// Art. 15(1) information per category, a pseudonymous subject reference,
// every file with media type, record count, size and SHA-256, and the
// omissions with their reasons) and checksums.sha256, which `sha256sum -c`
// accepts. A portability package holds only portable categories; the others
// are listed as omissions. [Exporter.WriteJSON] writes one JSON document,
// [Exporter.WriteNDJSON] and [Exporter.WriteCSV] one category.
//
// # Records
//
// A record is a struct, a pointer to a struct, or a map with string keys.
// Struct fields are written under their encoding/json names (the json tag;
// "-" skips a field); unexported fields are skipped and embedded structs'
// fields promoted. In JSON: strings as they are (invalid UTF-8 becomes
// U+FFFD), numbers, booleans, times in RFC 3339, []byte in base64, nested
// structs as objects, slices and arrays as arrays, nil pointers as null,
// pii.Sealed values as the value they hold, types with a MarshalText method
// as that text, and anything else (maps, interfaces) in its encoding/json
// form. Map records are objects with their keys sorted. NaN and infinities
// are written as null.
//
// A pii-tagged field whose key was shredded is written as {"erased":true}
// in JSON and as [ErasedCell] in CSV (the row's _erased column names it);
// it is never written as ciphertext, nor as an empty value. A field that
// fails to reveal for any other reason fails the export with [ErrReveal].
// Map records are written as they are: the host reveals them. A field
// written in its JSON form (a map, a type with a MarshalJSON method) that
// holds an erased field is marked as erased as a whole, since a reveal
// error cannot say which map entry it concerns.
//
// # CSV flattening
//
// CSV is a view for spreadsheets; the NDJSON is exact. Each category has a
// main table, records.csv, with one row per record:
//   - The first column, _row, numbers the records from 1 in source order.
//   - A scalar field is one column, named by its JSON name; the fields of a
//     nested struct are columns "parent.child"; a nil pointer gives empty
//     cells.
//   - Each list field (a slice or array other than []byte) is a child
//     table, records.<list>.csv, with one row per element: _row (the
//     parent's _row), _index (from 0), then the element's columns (a
//     scalar element is the column "value"). Lists inside list elements are
//     JSON text in one cell.
//   - Map values, interfaces and other values are their JSON text; nil
//     maps, interfaces and pointers are empty cells.
//   - Text cells that start with '=', '+', '-', '@', a tab or a carriage
//     return get a leading apostrophe ([NeutraliseCell]), so a spreadsheet
//     does not evaluate them; numbers, times and booleans are not text.
//   - Records with pii fields end with an _erased column.
//
// Map records have one column per key seen in any record, sorted.
//
// # Failure
//
// A source that returns an error or panics, a record of the wrong type, a
// field that cannot be revealed or ctx being cancelled fails the export
// with an error. The zip's manifest, checksums and central directory are
// written last, so a failed package is not a valid zip; the bytes of any
// failed export, in every format, are incomplete and must be discarded.
//
// # Memory
//
// Records are written as they are read, through buffers of fixed size;
// nothing is kept per record. index.html shows at most [Options.PageRows]
// records per category. A package reads each source once per view (NDJSON,
// CSV, each child table, the page) and checks that every read yields the same
// records ([ErrSourceChanged]).
//
// # Determinism
//
// With a fixed [Options.Now], [Options.Entropy] and [Options.SubjectKey],
// the same records give byte-identical output, zip timestamps included.
//
// # Errors
//
// The sentinels ErrUnknownCategory, ErrInvalidCategory, ErrSource,
// ErrRecordType, ErrSourceChanged, ErrReveal, ErrNoRevealer,
// ErrInvalidRequest and ErrClosed are wrapped with detail and checked with
// [errors.Is]. No error contains record content: records are named by
// category and position, fields by name, a panic by its type.
//
// # Concurrency
//
// An Exporter is safe for concurrent use: exports run in parallel, each in
// the calling goroutine, and see the categories registered when they
// start. A MemorySource is safe for concurrent use. Manifest and the other
// value types are plain values.
//
// The export uses one extra goroutine per running export while decrypting:
// a pass over a typed source ([SourceFunc]) of flat struct records with
// pii fields reads the source on that goroutine, copies the records into
// pages of 256, and reveals them in chunks of 32 while the calling
// goroutine writes the pages in order and helps reveal them; at most four
// pages exist per pass, so memory stays flat. With more than one core
// (GOMAXPROCS > 1) both decrypt at once; on one core the goroutines take
// turns, and the pass still gains from revealing a chunk at a time. A flat
// record holds only numbers, booleans, strings, times, arrays and structs
// of these, nothing behind a pointer, slice, map or interface, so its
// copy is its own and may be revealed after the source has reused the
// value it yielded. The Source's iterator and the Revealer are then called
// on the extra goroutine, and the Revealer from both goroutines at once.
// The goroutine ends before the pass returns, whether it succeeds, fails,
// panics or is cancelled.
//
// Records of other types, untyped sources and index.html's rows are
// revealed on the calling goroutine, one record at a time, in place.
//
// With a [*pii.Protector], a pass that writes a data file copies flat
// records (leaving the source's values as they were) and reveals their
// strings into memory that it reuses once the record, or its page, has
// been written: it allocates nothing per record. Output and progress
// reports are the same whichever way a pass runs.
package export
