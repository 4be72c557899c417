// Package texttable prints the tables of the CLI and of the reports: the
// plan of `stagesync plan`, the report of a sync, the result of a verify.
// One format for all: a header row, then a row a line, every column right
// aligned and two spaces from the next.
package texttable

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Table is a table being built.
type Table struct {
	rows [][]string
}

// New starts a table with its header.
func New(header ...string) *Table {
	return &Table{rows: [][]string{header}}
}

// Row adds a row; each cell is printed with %v.
func (t *Table) Row(cells ...any) {
	row := make([]string, len(cells))
	for i, c := range cells {
		row[i] = fmt.Sprint(c)
	}
	t.rows = append(t.rows, row)
}

// WriteTo prints the table.
func (t *Table) WriteTo(w io.Writer) (int64, error) {
	cw := &counter{w: w}
	tw := tabwriter.NewWriter(cw, 0, 0, 2, ' ', tabwriter.AlignRight)
	for _, r := range t.rows {
		// Every cell ends with a tab: with AlignRight a cell is
		// aligned only when a tab ends it.
		if _, err := io.WriteString(tw, strings.Join(r, "\t")+"\t\n"); err != nil {
			return cw.n, err
		}
	}
	err := tw.Flush()
	return cw.n, err
}

type counter struct {
	w io.Writer
	n int64
}

func (c *counter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
