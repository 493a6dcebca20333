build-san/obj/libs/bus/mdm_worker.o: libs/bus/mdm_worker.c \
 libs/bus/mdm_worker.h libs/core/mdm_buf.h libs/core/mdm_err.h \
 libs/bus/mdm_msg.h libs/core/mdm_log.h
libs/bus/mdm_worker.h:
libs/core/mdm_buf.h:
libs/core/mdm_err.h:
libs/bus/mdm_msg.h:
libs/core/mdm_log.h:
