// Package revealhook lets package export reveal records into memory that it
// reuses, without a public API in package pii that would hand out strings
// whose memory is later overwritten.
//
// Package pii sets Into when it is initialised; a package that imports pii
// can rely on it being set.
package revealhook

import "context"

// Into reveals v as (*pii.Protector).Reveal(ctx, v) does, with p the
// *pii.Protector, but takes the memory of the revealed strings from the
// spare capacity of *arena, appending to it (and replacing it with larger
// memory when it is full). The revealed strings are valid only while the
// caller leaves that memory alone: a caller that reuses *arena[:0] must be
// done with every string revealed into it before.
var Into func(p any, ctx context.Context, v any, arena *[]byte) error
