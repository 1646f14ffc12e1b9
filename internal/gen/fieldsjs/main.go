// Command fieldsjs writes web/static/fields.js from protocol.Fields:
//
//	go run ./internal/gen/fieldsjs web/static/fields.js
//
// web/doc.go runs it on go generate ./web.
package main

import (
	"fmt"
	"os"

	"github.com/khantara/khantara/internal/gen"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: fieldsjs OUTPUT")
		os.Exit(2)
	}
	data, err := gen.FieldsJS()
	if err == nil {
		err = os.WriteFile(os.Args[1], data, 0o644)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "fieldsjs: %v\n", err)
		os.Exit(1)
	}
}
