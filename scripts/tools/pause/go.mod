module smelt.local/pause

go 1.22
