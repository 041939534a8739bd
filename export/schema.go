package export

import (
	"encoding/json"
)

// JSONSchemaDialect is the JSON Schema version of the schemas in a package.
const JSONSchemaDialect = "https://json-schema.org/draft/2020-12/schema"

// schemaFor returns the JSON Schema of the records written by p (nil: no
// record was seen and the type is unknown).
func schemaFor(p *plan, c Category) ([]byte, error) {
	root := map[string]any{
		"$schema":     JSONSchemaDialect,
		"title":       c.Title,
		"description": "One record of category " + string(c.Name) + ", as one line of its NDJSON file.",
		"$defs": map[string]any{
			"erased": map[string]any{
				"description":          "A field whose data was erased: its encryption key was destroyed.",
				"type":                 "object",
				"properties":           map[string]any{"erased": map[string]any{"const": true}},
				"required":             []string{"erased"},
				"additionalProperties": false,
			},
		},
	}
	switch {
	case p == nil:
		root["type"] = "object"
	case p.st != nil:
		for k, v := range objectSchema(p.st) {
			root[k] = v
		}
	default:
		root["type"] = "object"
		root["additionalProperties"] = fieldSchema(p.mapVal)
	}
	b, err := json.MarshalIndent(root, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

func objectSchema(sp *structPlan) map[string]any {
	props := map[string]any{}
	req := []string{}
	for _, f := range sp.fields {
		props[f.name] = fieldSchema(f)
		req = append(req, f.name)
	}
	return map[string]any{"type": "object", "properties": props, "required": req, "additionalProperties": false}
}

func fieldSchema(f *field) map[string]any {
	var s map[string]any
	nullable := f.ptr
	switch f.kind {
	case kString, kText:
		s = map[string]any{"type": "string"}
	case kBool:
		s = map[string]any{"type": "boolean"}
	case kInt:
		s = map[string]any{"type": "integer"}
	case kUint:
		s = map[string]any{"type": "integer", "minimum": 0}
	case kFloat:
		s = map[string]any{"type": "number"}
		nullable = true // NaN and infinities are written as null
	case kTime:
		s = map[string]any{"type": "string", "format": "date-time"}
	case kBytes:
		s = map[string]any{"type": "string", "contentEncoding": "base64"}
		nullable = true
	case kStruct:
		s = objectSchema(f.sub)
	case kList:
		s = map[string]any{"type": "array", "items": fieldSchema(f.elem)}
	case kSealed:
		s = fieldSchema(f.elem)
	default: // kDynamic, kJSON: any JSON value
		s = map[string]any{}
	}
	if nullable && len(s) > 0 {
		s = map[string]any{"anyOf": []any{s, map[string]any{"type": "null"}}}
	}
	if (f.pii || f.kind == kSealed) && len(s) > 0 {
		s = map[string]any{"anyOf": []any{s, map[string]any{"$ref": "#/$defs/erased"}}}
	}
	return s
}
