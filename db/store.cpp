// placeholder: the store (db/store.h) lands here.
