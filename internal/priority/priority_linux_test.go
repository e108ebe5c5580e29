package priority

import (
	"syscall"
	"testing"
)

func TestRunLowersThePriorityOfItsThreadOnly(t *testing.T) {
	// Linux's getpriority answers 20 - nice.
	niceOf := func() int {
		p, err := syscall.Getpriority(syscall.PRIO_PROCESS, syscall.Gettid())
		if err != nil {
			t.Fatal(err)
		}
		return 20 - p
	}
	before := niceOf()
	if before >= 10 {
		t.Skipf("the test runs at nice %d already", before)
	}
	tests := []struct {
		name string
		nice int
		want int
	}{
		{"a nice value of 10 runs f at nice 10", 10, 10},
		{"a nice value below 1 runs f at the process's priority", -1, before},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got int
			Run(tt.nice, func() { got = niceOf() })
			if got != tt.want {
				t.Errorf("nice during f = %d, want %d", got, tt.want)
			}
			if now := niceOf(); now != before {
				t.Errorf("the caller's thread is at nice %d after Run, want %d", now, before)
			}
		})
	}
}
