// Package mapped bounds the resident set that memory-mapped files add to
// this process. Badger maps its value log, tables and write-ahead log, and
// bleve its index segments; every page a scan touches stays in the
// process's resident set (VmRSS, and its peak VmHWM) until the file is
// unmapped, though the kernel could drop it at any time. Release drops
// those pages from the process's page tables: the data stays in the page
// cache (and dirty pages are written back as before), and the next access
// maps the page again with a minor fault. Only shared mappings are
// touched, so no private copy is ever lost. Linux only; elsewhere Release
// does nothing.
package mapped
