package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// output is the one output style of the admin commands: an aligned table
// (what an operator reads, and what scripts have grepped so far), or JSON
// with --json (what a program parses: every field, names as the admin API
// gives them).
type output struct{ json bool }

// bindOutput defines --json on a command's flags.
func bindOutput(fs *flag.FlagSet) *output {
	o := &output{}
	fs.BoolVar(&o.json, "json", false, "print JSON instead of a table")
	return o
}

// print writes v as indented JSON with --json, else the table t renders
// from it (t is not called for JSON).
func (o *output) print(w io.Writer, v any, t func() *table) error {
	if o.json {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	return t().write(w)
}

// table is a header and rows of cells, written aligned on columns.
type table struct {
	header []string
	rows   [][]string
}

func newTable(header ...string) *table { return &table{header: header} }

// add appends a row; each value is shown by cell.
func (t *table) add(values ...any) {
	row := make([]string, len(values))
	for i, v := range values {
		row[i] = cell(v)
	}
	t.rows = append(t.rows, row)
}

func (t *table) write(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(t.header, "\t"))
	for _, r := range t.rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

// cell shows one value: times in UTC RFC 3339, lists comma-separated,
// and an empty value as "-" so that every column stays filled (and
// awk/cut can count on it).
func cell(v any) string {
	var s string
	switch v := v.(type) {
	case time.Time:
		s = stamp(v)
	case []string:
		s = strings.Join(v, ",")
	case string:
		s = v
	default:
		s = fmt.Sprint(v)
	}
	// A tab or newline in a value would break the columns.
	s = strings.NewReplacer("\t", " ", "\n", " ", "\r", " ").Replace(s)
	if s == "" {
		return "-"
	}
	return s
}
