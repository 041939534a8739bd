package export

import (
	"context"
	"iter"
	"reflect"
	"sync"

	"github.com/personaldata/personaldata"
)

var _ Source = (*MemorySource)(nil)

// MemorySource is a [Source] in memory, for tests, examples and small
// programs. It yields a deep copy of each record it holds, so revealing a
// record for an export never changes the stored (protected) value. The
// zero value is an empty source ready to use. It is safe for concurrent use.
type MemorySource struct {
	mu   sync.RWMutex
	recs map[personaldata.SubjectID][]any
}

// NewMemorySource returns an empty MemorySource, like new(MemorySource).
func NewMemorySource() *MemorySource { return new(MemorySource) }

// Add appends records of subject. The source keeps the values given; do
// not change them afterwards.
func (s *MemorySource) Add(subject personaldata.SubjectID, records ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.recs == nil {
		s.recs = make(map[personaldata.SubjectID][]any)
	}
	s.recs[subject] = append(s.recs[subject], records...)
}

// Records implements [Source]. It yields copies of the records of subject
// as they were when iteration started, in the order they were added.
func (s *MemorySource) Records(ctx context.Context, subject personaldata.SubjectID) iter.Seq2[any, error] {
	return func(yield func(any, error) bool) {
		s.mu.RLock()
		recs := s.recs[subject][:len(s.recs[subject]):len(s.recs[subject])]
		s.mu.RUnlock()
		for _, r := range recs {
			if err := ctx.Err(); err != nil {
				yield(nil, err)
				return
			}
			if r != nil {
				r = deepCopy(reflect.ValueOf(r)).Interface()
			}
			if !yield(r, nil) {
				return
			}
		}
	}
}

// deepCopy copies v, following pointers, slices, maps and interfaces, so
// that changing the copy in place leaves v as it was.
func deepCopy(v reflect.Value) reflect.Value {
	if !v.IsValid() {
		return v
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		c := reflect.New(v.Type().Elem())
		c.Elem().Set(deepCopy(v.Elem()))
		return c
	case reflect.Interface:
		if v.IsNil() {
			return v
		}
		c := reflect.New(v.Type()).Elem()
		c.Set(deepCopy(v.Elem()))
		return c
	case reflect.Slice:
		if v.IsNil() {
			return v
		}
		c := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := range v.Len() {
			c.Index(i).Set(deepCopy(v.Index(i)))
		}
		return c
	case reflect.Array:
		c := reflect.New(v.Type()).Elem()
		for i := range v.Len() {
			c.Index(i).Set(deepCopy(v.Index(i)))
		}
		return c
	case reflect.Map:
		if v.IsNil() {
			return v
		}
		c := reflect.MakeMapWithSize(v.Type(), v.Len())
		for it := v.MapRange(); it.Next(); {
			c.SetMapIndex(it.Key(), deepCopy(it.Value()))
		}
		return c
	case reflect.Struct:
		c := reflect.New(v.Type()).Elem()
		c.Set(v) // unexported fields are copied as they are
		for i := range v.NumField() {
			if c.Field(i).CanSet() {
				c.Field(i).Set(deepCopy(v.Field(i)))
			}
		}
		return c
	}
	return v
}
