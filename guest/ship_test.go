package guest

import "testing"

func TestShippedDropsCommentsButNotData(t *testing.T) {
	in := "#!/bin/sh\n# why\nset -u\n\t# indented why\necho '#not a comment line'\ncat >f <<'EOF'\n# kept: data\nEOF\n# dropped\ncat >g <<-END\n\t# kept too\n\tEND\n# gone\n"
	want := "#!/bin/sh\nset -u\necho '#not a comment line'\ncat >f <<'EOF'\n# kept: data\nEOF\ncat >g <<-END\n\t# kept too\n\tEND\n"
	if got := Shipped(in); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
