package texttable

import (
	"strings"
	"testing"
)

func TestTable(t *testing.T) {
	tb := New("model", "create", "failed")
	tb.Row("Book", 3, 0)
	tb.Row("Destination", 120, 2)
	var b strings.Builder
	n, err := tb.WriteTo(&b)
	// The padding goes before each cell, the first too.
	want := "" +
		"        model  create  failed\n" +
		"         Book       3       0\n" +
		"  Destination     120       2\n"
	if err != nil || b.String() != want || n != int64(len(want)) {
		t.Errorf("WriteTo = %d, %v:\n%q\nwant\n%q", n, err, b.String(), want)
	}
}
