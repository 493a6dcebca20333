build-san/obj/libs/core/mdm_err.o: libs/core/mdm_err.c \
 libs/core/mdm_err.h
libs/core/mdm_err.h:
