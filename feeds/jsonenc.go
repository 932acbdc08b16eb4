package feeds

// jsonObject writes one JSON object laid out as json.MarshalIndent with a
// two-space indent lays it out: each member on its own line, "{}" when
// empty. Members whose value is empty are left out (omitempty).
type jsonObject struct {
	b      []byte
	indent string // the members' indentation; the closing brace takes two spaces less
	n      int
}

func openObject(dst []byte, indent string) jsonObject {
	return jsonObject{b: append(dst, '{'), indent: indent}
}

// key starts a member.
func (o *jsonObject) key(k string) {
	if o.n > 0 {
		o.b = append(o.b, ',')
	}
	o.b = append(o.b, '\n')
	o.b = append(o.b, o.indent...)
	o.b = append(o.b, '"')
	o.b = append(o.b, k...)
	o.b = append(o.b, `": `...)
	o.n++
}

// str writes a string member unless v is empty.
func (o *jsonObject) str(k, v string) {
	if v == "" {
		return
	}
	o.key(k)
	o.b = appendJSON(o.b, v)
}

// strings writes an array of strings unless it is empty.
func (o *jsonObject) strings(k string, vs []string) {
	if len(vs) == 0 {
		return
	}
	o.key(k)
	o.b = append(o.b, '[')
	for i, v := range vs {
		if i > 0 {
			o.b = append(o.b, ',')
		}
		o.b = append(o.b, '\n')
		o.b = append(o.b, o.indent...)
		o.b = append(o.b, "  "...)
		o.b = appendJSON(o.b, v)
	}
	o.b = append(o.b, '\n')
	o.b = append(o.b, o.indent...)
	o.b = append(o.b, ']')
}

// objects writes an array of objects, each written by fill, unless n is 0.
func (o *jsonObject) objects(k string, n int, fill func(i int, inner *jsonObject)) {
	if n == 0 {
		return
	}
	o.key(k)
	o.b = append(o.b, '[')
	for i := range n {
		if i > 0 {
			o.b = append(o.b, ',')
		}
		o.b = append(o.b, '\n')
		o.b = append(o.b, o.indent...)
		o.b = append(o.b, "  "...)
		inner := openObject(o.b, o.indent+"    ")
		fill(i, &inner)
		o.b = inner.close()
	}
	o.b = append(o.b, '\n')
	o.b = append(o.b, o.indent...)
	o.b = append(o.b, ']')
}

// close ends the object and returns the bytes.
func (o *jsonObject) close() []byte {
	if o.n > 0 {
		o.b = append(o.b, '\n')
		o.b = append(o.b, o.indent[:len(o.indent)-2]...)
	}
	return append(o.b, '}')
}
