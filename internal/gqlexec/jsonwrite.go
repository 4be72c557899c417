package gqlexec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// safeASCII marks the ASCII bytes a JSON string holds unescaped.
var safeASCII = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// writeString writes s as a JSON string. Invalid UTF-8 becomes U+FFFD, as
// with encoding/json.
func writeString(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if safeASCII[c] {
				i++
				continue
			}
			b.WriteString(s[start:i])
			switch c {
			case '"', '\\':
				b.WriteByte('\\')
				b.WriteByte(c)
			case '\n':
				b.WriteString(`\n`)
			case '\r':
				b.WriteString(`\r`)
			case '\t':
				b.WriteString(`\t`)
			default:
				b.WriteString(`\u00`)
				b.WriteByte(hexDigits[c>>4])
				b.WriteByte(hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteString(s[start:i])
			b.WriteString(`\ufffd`)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b.WriteString(s[start:i])
			b.WriteString(`\u202`)
			b.WriteByte(hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b.WriteString(s[start:])
	b.WriteByte('"')
}

// writeFloat writes f as encoding/json does.
func writeFloat(b *bytes.Buffer, f float64) error {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Errorf("cannot serialize %v", f)
	}
	var tmp [32]byte
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	out := strconv.AppendFloat(tmp[:0], f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		n := len(out)
		if n >= 4 && out[n-4] == 'e' && out[n-3] == '-' && out[n-2] == '0' {
			out[n-2] = out[n-1]
			out = out[:n-1]
		}
	}
	b.Write(out)
	return nil
}

func writeInt(b *bytes.Buffer, n int64) {
	var tmp [24]byte
	b.Write(strconv.AppendInt(tmp[:0], n, 10))
}

// writeScalar serializes v as a value of the scalar type name, coercing
// built-in scalars per the spec's result coercion.
func writeScalar(b *bytes.Buffer, name string, v any) error {
	switch name {
	case "String":
		switch s := v.(type) {
		case string:
			writeString(b, s)
			return nil
		case fmt.Stringer:
			writeString(b, s.String())
			return nil
		}
		if rv := reflect.ValueOf(v); rv.Kind() == reflect.String {
			writeString(b, rv.String())
			return nil
		}
		return fmt.Errorf("cannot serialize %T as String", v)
	case "ID":
		if s, ok := v.(string); ok {
			writeString(b, s)
			return nil
		}
		if n, ok := toInt64(v); ok {
			writeString(b, strconv.FormatInt(n, 10))
			return nil
		}
		if rv := reflect.ValueOf(v); rv.Kind() == reflect.String {
			writeString(b, rv.String())
			return nil
		}
		return fmt.Errorf("cannot serialize %T as ID", v)
	case "Int":
		n, ok := toInt64(v)
		if !ok {
			return fmt.Errorf("cannot serialize %v (%T) as Int", v, v)
		}
		if n > math.MaxInt32 || n < math.MinInt32 {
			return fmt.Errorf("Int cannot represent non 32-bit signed integer value: %d", n)
		}
		writeInt(b, n)
		return nil
	case "Float":
		f, ok := toFloat64(v)
		if !ok {
			return fmt.Errorf("cannot serialize %v (%T) as Float", v, v)
		}
		return writeFloat(b, f)
	case "Boolean":
		bv, ok := v.(bool)
		if !ok {
			return fmt.Errorf("cannot serialize %v (%T) as Boolean", v, v)
		}
		writeBool(b, bv)
		return nil
	}
	return writeAny(b, v)
}

func writeBool(b *bytes.Buffer, v bool) {
	if v {
		b.WriteString("true")
	} else {
		b.WriteString("false")
	}
}

// writeAny writes a custom scalar value: fast paths for common Go values,
// encoding/json for the rest.
func writeAny(b *bytes.Buffer, v any) error {
	switch t := v.(type) {
	case nil:
		b.WriteString("null")
		return nil
	case string:
		writeString(b, t)
		return nil
	case bool:
		writeBool(b, t)
		return nil
	case int:
		writeInt(b, int64(t))
		return nil
	case int64:
		writeInt(b, t)
		return nil
	case int32:
		writeInt(b, int64(t))
		return nil
	case float64:
		return writeFloat(b, t)
	case json.Number:
		b.WriteString(t.String())
		return nil
	case json.RawMessage:
		if !json.Valid(t) {
			return fmt.Errorf("invalid JSON in json.RawMessage")
		}
		b.Write(t)
		return nil
	}
	out, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("cannot serialize %T: %w", v, err)
	}
	b.Write(out)
	return nil
}
