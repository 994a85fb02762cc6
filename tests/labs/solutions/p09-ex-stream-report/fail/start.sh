#!/bin/sh
# Still buffers the whole export, only in a different variable.
rows=$(yes 'order,42,EUR' | head -n 3000000)
count=$(echo "$rows" | wc -l)
echo "rows: $count"
