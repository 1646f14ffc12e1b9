module github.com/khantara/khantara/tools

go 1.26

require golang.org/x/exp v0.0.0-20260718201538-764159d718ef
