package history

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// parseSlow parses one line with encoding/json. It is the reference for what a line means: the
// fast scanner handles the common shapes and must agree with it (FuzzParseLine checks), and
// every line the scanner does not handle, or finds wrong, comes here for a result or for the
// error message.
func parseSlow(line []byte) (Op, error) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return Op{}, jsonErr(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return Op{}, fmt.Errorf("want a JSON object, found %s", describeToken(tok))
	}
	var (
		op                          Op
		seen                        = map[string]bool{}
		index, time, process, typ_  json.RawMessage
		f, errStr, value            json.RawMessage
		hasIndex, hasTime, hasProc  bool
		hasType, hasF, hasErr, hasV bool
	)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return Op{}, jsonErr(err)
		}
		name := tok.(string) // object keys are always strings
		if seen[name] {
			return Op{}, fmt.Errorf("field %q appears twice", name)
		}
		seen[name] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return Op{}, jsonErr(err)
		}
		switch name {
		case "index":
			index, hasIndex = raw, true
		case "time":
			time, hasTime = raw, true
		case "process":
			process, hasProc = raw, true
		case "type":
			typ_, hasType = raw, true
		case "f":
			f, hasF = raw, true
		case "value":
			value, hasV = raw, true
		case "error":
			errStr, hasErr = raw, true
		}
		// Other fields are ignored, so that a history may carry more than kchaos reads.
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return Op{}, jsonErr(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		if err != nil {
			return Op{}, jsonErr(err)
		}
		return Op{}, errors.New("data after the JSON object")
	}
	for _, req := range []struct {
		name string
		has  bool
	}{{"index", hasIndex}, {"time", hasTime}, {"process", hasProc}, {"type", hasType}, {"f", hasF}} {
		if !req.has {
			return Op{}, fmt.Errorf("missing field %q", req.name)
		}
	}
	if op.Index, err = parseNonNegative("index", index); err != nil {
		return Op{}, err
	}
	if op.Time, err = parseNonNegative("time", time); err != nil {
		return Op{}, err
	}
	if op.Process, err = parseProcess(process); err != nil {
		return Op{}, err
	}
	var s string
	if err := json.Unmarshal(typ_, &s); err != nil || typ_[0] != '"' {
		return Op{}, fmt.Errorf("type %s: want a string", truncate(typ_))
	}
	var ok bool
	if op.Type, ok = parseType(s); !ok {
		return Op{}, fmt.Errorf("type %q: want invoke, ok, fail or info", s)
	}
	if err := json.Unmarshal(f, &op.F); err != nil || f[0] != '"' {
		return Op{}, fmt.Errorf("f %s: want a string", truncate(f))
	}
	if hasErr && !isNull(errStr) {
		if errStr[0] == '"' {
			if err := json.Unmarshal(errStr, &op.Error); err != nil {
				return Op{}, fmt.Errorf("error %s: %w", truncate(errStr), err)
			}
		} else {
			// Any JSON: Jepsen writes vectors. Kept compact, its text the readable form.
			var buf bytes.Buffer
			if err := json.Compact(&buf, errStr); err != nil {
				return Op{}, fmt.Errorf("error: %w", err)
			}
			op.ErrorRaw = buf.Bytes()
			op.Error = buf.String()
		}
	}
	if err := checkLine(&op); err != nil {
		return Op{}, err
	}
	if !hasV || isNull(value) {
		return op, nil
	}
	switch {
	case HasMops(op.F):
		op.Mops, err = slowMops(value)
	case HasKeys(op.F):
		op.Keys, err = slowKeys(value)
	default:
		// Compact, so that writing the line back and reading it again gives the same Raw.
		var buf bytes.Buffer
		if err := json.Compact(&buf, value); err != nil {
			return Op{}, fmt.Errorf("%s value: %w", op.F, err)
		}
		op.Raw = buf.Bytes()
	}
	if err != nil {
		return Op{}, fmt.Errorf("%s value: %w", op.F, err)
	}
	return op, nil
}

func isNull(raw json.RawMessage) bool { return string(raw) == "null" }

func parseNonNegative(name string, raw json.RawMessage) (int64, error) {
	n, ok := parseJSONInt(raw)
	if !ok {
		return 0, fmt.Errorf("%s %s: want a non-negative integer", name, truncate(raw))
	}
	if n < 0 {
		return 0, fmt.Errorf("%s %d: want a non-negative integer", name, n)
	}
	return n, nil
}

func slowKeys(raw json.RawMessage) ([]string, error) {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil || raw[0] != '[' {
		return nil, fmt.Errorf("%s: want a list of keys", truncate(raw))
	}
	keys := make([]string, len(items))
	for i, item := range items {
		if err := json.Unmarshal(item, &keys[i]); err != nil || item[0] != '"' {
			return nil, fmt.Errorf("key %d: %s is not a string", i, truncate(item))
		}
	}
	return keys, nil
}

func slowMops(raw json.RawMessage) ([]Mop, error) {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil || raw[0] != '[' {
		return nil, fmt.Errorf("%s: want a list of micro-operations", truncate(raw))
	}
	mops := make([]Mop, len(items))
	for i, item := range items {
		m, err := slowMop(item)
		if err != nil {
			return nil, fmt.Errorf("micro-op %d: %w", i, err)
		}
		mops[i] = m
	}
	return mops, nil
}

func slowMop(raw json.RawMessage) (Mop, error) {
	var parts []json.RawMessage
	if err := json.Unmarshal(raw, &parts); err != nil || raw[0] != '[' || len(parts) == 0 {
		return Mop{}, fmt.Errorf("%s: want [\"send\", key, value] or [\"poll\", ...]", truncate(raw))
	}
	var kind string
	if err := json.Unmarshal(parts[0], &kind); err != nil || parts[0][0] != '"' {
		return Mop{}, fmt.Errorf("%s: want [\"send\", key, value] or [\"poll\", ...]", truncate(raw))
	}
	switch kind {
	case "send":
		if len(parts) != 3 {
			return Mop{}, fmt.Errorf("%s: want [\"send\", key, value]", truncate(raw))
		}
		m := Mop{Kind: MopSend, Offset: NoOffset}
		if err := json.Unmarshal(parts[1], &m.Key); err != nil || parts[1][0] != '"' {
			return Mop{}, fmt.Errorf("send key %s is not a string", truncate(parts[1]))
		}
		v := parts[2]
		if v[0] == '[' {
			off, val, err := slowPair(v)
			if err != nil {
				return Mop{}, fmt.Errorf("send to %q: %w", m.Key, err)
			}
			m.Offset, m.Value = off, val
			return m, nil
		}
		val, err := ParseValue(v)
		if err != nil {
			return Mop{}, fmt.Errorf("send to %q: %w", m.Key, err)
		}
		m.Value = val
		return m, nil
	case "poll":
		switch len(parts) {
		case 1:
			return Mop{Kind: MopPoll}, nil
		case 2:
			reads, err := slowReads(parts[1])
			if err != nil {
				return Mop{}, fmt.Errorf("poll result: %w", err)
			}
			return Mop{Kind: MopPoll, Polled: true, Reads: reads}, nil
		}
		return Mop{}, fmt.Errorf("%s: want [\"poll\"] or [\"poll\", {key: [[offset, value], ...]}]", truncate(raw))
	}
	return Mop{}, fmt.Errorf("micro-op %q: want \"send\" or \"poll\"", kind)
}

// slowPair parses [offset, value]; a null offset is NoOffset.
func slowPair(raw json.RawMessage) (int64, Value, error) {
	var parts []json.RawMessage
	if err := json.Unmarshal(raw, &parts); err != nil || len(parts) != 2 {
		return 0, Value{}, fmt.Errorf("%s: want [offset, value]", truncate(raw))
	}
	off := NoOffset
	if !isNull(parts[0]) {
		n, ok := parseJSONInt(parts[0])
		if !ok || n < 0 {
			return 0, Value{}, fmt.Errorf("offset %s: want a non-negative integer or null", truncate(parts[0]))
		}
		off = n
	}
	v, err := ParseValue(parts[1])
	if err != nil {
		return 0, Value{}, err
	}
	return off, v, nil
}

// slowReads parses a poll result object, keeping its keys in order.
func slowReads(raw json.RawMessage) ([]KeyReads, error) {
	if raw[0] != '{' {
		return nil, fmt.Errorf("%s: want an object of keys to [[offset, value], ...]", truncate(raw))
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if _, err := dec.Token(); err != nil {
		return nil, jsonErr(err)
	}
	reads := []KeyReads{}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, jsonErr(err)
		}
		key := tok.(string)
		if seen[key] {
			return nil, fmt.Errorf("key %q appears twice", key)
		}
		seen[key] = true
		var list json.RawMessage
		if err := dec.Decode(&list); err != nil {
			return nil, jsonErr(err)
		}
		var items []json.RawMessage
		if err := json.Unmarshal(list, &items); err != nil || list[0] != '[' {
			return nil, fmt.Errorf("key %q: %s: want [[offset, value], ...]", key, truncate(list))
		}
		recs := make([]Record, len(items))
		for i, item := range items {
			if item[0] != '[' {
				return nil, fmt.Errorf("key %q record %d: %s: want [offset, value]", key, i, truncate(item))
			}
			off, v, err := slowPair(item)
			if err != nil {
				return nil, fmt.Errorf("key %q record %d: %w", key, i, err)
			}
			recs[i] = Record{Offset: off, Value: v}
		}
		reads = append(reads, KeyReads{Key: key, Records: recs})
	}
	return reads, nil
}

func jsonErr(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("unexpected end of line: incomplete JSON")
	}
	return fmt.Errorf("invalid JSON: %w", err)
}

func describeToken(tok json.Token) string {
	switch t := tok.(type) {
	case json.Delim:
		return string(t)
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%v", tok)
}
