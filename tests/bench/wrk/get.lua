-- GET the URL given on wrk's command line (the trivial endpoint, the catalog without q).
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local report = dofile(here .. "report.lua")

done = report.done
