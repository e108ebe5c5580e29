package main

import "testing"

func TestProcs(t *testing.T) {
	tests := []struct {
		name       string
		cores      int
		c          config
		env        map[string]string
		ps, hashes int
	}{
		{"by default one P more than the cores, hashing on every core", 2, config{}, nil, 3, 2},
		{"on one core two Ps and one hash", 1, config{}, nil, 2, 1},
		{"a GOMAXPROCS in the environment is kept as is", 4, config{}, map[string]string{"GOMAXPROCS": "4"}, 4, 4},
		{"an empty GOMAXPROCS counts as unset", 2, config{}, map[string]string{"GOMAXPROCS": " "}, 3, 2},
		{"KEEL_GOMAXPROCS wins over the default", 2, config{Procs: 8}, nil, 8, 2},
		{"KEEL_GOMAXPROCS wins over GOMAXPROCS", 2, config{Procs: 5}, map[string]string{"GOMAXPROCS": "2"}, 5, 2},
		{"KEEL_MAX_CONCURRENT_HASHES sets the hashes", 2, config{MaxHashes: 1}, nil, 3, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps, hashes := procs(tt.c, tt.cores, env(tt.env))
			if ps != tt.ps || hashes != tt.hashes {
				t.Errorf("procs = %d Ps, %d hashes; want %d, %d", ps, hashes, tt.ps, tt.hashes)
			}
		})
	}
}
