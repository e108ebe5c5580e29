package plural

import "testing"

func TestCount(t *testing.T) {
	tests := []struct {
		name string
		n    int
		want string
	}{
		{"one is singular", 1, "1 character"},
		{"zero is plural", 0, "0 characters"},
		{"many are plural", 128, "128 characters"},
		{"minus one is plural", -1, "-1 characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Count(tt.n, "character"); got != tt.want {
				t.Errorf("Count(%d) = %q, want %q", tt.n, got, tt.want)
			}
		})
	}
}
