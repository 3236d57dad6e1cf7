// placeholder: statistics (reports/stats.h) land here.
