package export

import (
	"reflect"
	"strconv"
	"time"
	"unsafe"
)

// Struct records are usually addressable (pointers, or values copied to be
// revealed). Their fields are then read at the offsets the plan computed
// once per type, rather than through a reflect.Value per field: the
// scalars (strings, booleans, numbers, times) directly, the rest through
// reflect.NewAt. Every offset comes from reflect.StructField.Offset of the
// type the record was checked to have, and is used only for fields
// reached without following a pointer (field.direct).

// addrOf returns the address of struct value v, or nil if v is not
// addressable.
func addrOf(v reflect.Value) unsafe.Pointer {
	if !v.CanAddr() {
		return nil
	}
	return v.Addr().UnsafePointer()
}

// valueAt returns the field of f's declared type stored at p.
func valueAt(f *field, p unsafe.Pointer) reflect.Value {
	return reflect.NewAt(f.decl, p).Elem()
}

func intAt(p unsafe.Pointer, k reflect.Kind) int64 {
	switch k {
	case reflect.Int8:
		return int64(*(*int8)(p))
	case reflect.Int16:
		return int64(*(*int16)(p))
	case reflect.Int32:
		return int64(*(*int32)(p))
	case reflect.Int64:
		return *(*int64)(p)
	}
	return int64(*(*int)(p))
}

func uintAt(p unsafe.Pointer, k reflect.Kind) uint64 {
	switch k {
	case reflect.Uint8:
		return uint64(*(*uint8)(p))
	case reflect.Uint16:
		return uint64(*(*uint16)(p))
	case reflect.Uint32:
		return uint64(*(*uint32)(p))
	case reflect.Uint64:
		return *(*uint64)(p)
	case reflect.Uintptr:
		return uint64(*(*uintptr)(p))
	}
	return uint64(*(*uint)(p))
}

// floatAt returns the float at p and its size in bits.
func floatAt(p unsafe.Pointer, k reflect.Kind) (float64, int) {
	if k == reflect.Float32 {
		return float64(*(*float32)(p)), 32
	}
	return *(*float64)(p), 64
}

// appendScalarJSON appends the JSON form of scalar field f stored at p.
func appendScalarJSON(b []byte, f *field, p unsafe.Pointer) []byte {
	switch f.kind {
	case kString:
		return appendString(b, *(*string)(p))
	case kBool:
		return strconv.AppendBool(b, *(*bool)(p))
	case kInt:
		return strconv.AppendInt(b, intAt(p, f.typ.Kind()), 10)
	case kUint:
		return strconv.AppendUint(b, uintAt(p, f.typ.Kind()), 10)
	case kFloat:
		x, bits := floatAt(p, f.typ.Kind())
		return appendFloat(b, x, bits)
	}
	return appendTime(b, *(*time.Time)(p))
}
