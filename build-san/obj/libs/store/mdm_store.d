build-san/obj/libs/store/mdm_store.o: libs/store/mdm_store.c \
 libs/store/mdm_store.h libs/core/mdm_err.h libs/store/mdm_keys.h \
 libs/core/mdm_log.h
libs/store/mdm_store.h:
libs/core/mdm_err.h:
libs/store/mdm_keys.h:
libs/core/mdm_log.h:
