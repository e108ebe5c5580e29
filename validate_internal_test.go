package keel

import (
	"encoding/json"
	"testing"
)

func TestOptionalJSON(t *testing.T) {
	var in struct {
		A Optional[string]  `json:"a"`
		B Optional[*string] `json:"b"`
		C Optional[bool]    `json:"c"`
	}
	if err := json.Unmarshal([]byte(`{"b":null,"c":false}`), &in); err != nil {
		t.Fatal(err)
	}
	if in.A.Set || !in.B.Set || in.B.Value != nil || !in.C.Set || in.C.Value {
		t.Fatalf("%+v", in)
	}
	if err := json.Unmarshal([]byte(`{"c":null}`), &in); err == nil {
		t.Fatal("null accepted for a bool")
	}
	if err := json.Unmarshal([]byte(`{"a":3}`), &in); err == nil {
		t.Fatal("a number accepted for a string")
	}
}
