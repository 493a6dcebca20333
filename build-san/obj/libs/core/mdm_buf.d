build-san/obj/libs/core/mdm_buf.o: libs/core/mdm_buf.c \
 libs/core/mdm_buf.h
libs/core/mdm_buf.h:
